"""What-if scenario runs of this process: queued, followed and read by the API and the pages."""
