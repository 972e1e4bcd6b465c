"""Proposals, the ledger, and the model behind them."""
