"""Server-rendered pages for caseworkers, charities, planners and FOI officers.

Built on the same service functions as the JSON API (``api.services``, ``api.record``,
``api.scenarios.service``); the pages only parse forms, call a service, and render.
"""
