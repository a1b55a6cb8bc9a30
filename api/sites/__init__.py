"""Sites: a charity's places (providers in the matching contract) and their weekly capacity."""
