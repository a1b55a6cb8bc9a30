"""Tests of sign-in, tokens, sessions, throttling and who may do what."""
