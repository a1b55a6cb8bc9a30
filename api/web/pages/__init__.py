"""The pages, one module per role: each module's ``router`` holds that role's page routes."""
