"""What the API and the command line share: configuration."""
