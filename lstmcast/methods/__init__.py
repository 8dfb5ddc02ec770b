"""The forecasting methods: the LSTM network (pure torch, imported only by its own module)."""
