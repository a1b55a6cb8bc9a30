"""Server-rendered pages for caseworkers, charities, planners and FOI officers.

Built on the same service functions as the JSON API (the features' ``service`` modules,
``api.record``, ``api.scenarios.runs``); the pages only parse forms, call a service, and render.
One module per role in ``pages/``; ``router`` gathers them for the application.
"""
