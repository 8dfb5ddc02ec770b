"""lstmcast: time-series forecasting from the command line with one global LSTM."""

__version__ = "0.1.0"
