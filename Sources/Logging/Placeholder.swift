// Logging module
