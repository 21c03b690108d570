"""Model definitions (torch). ``lstm``: the tutorial's starter LSTM; ``wide``: the shipped
model's hashed n-gram part beside it; ``transformer``: a Hugging Face encoder with the
tutorial's head. Import the submodule you need: importing this package does not import
transformers."""
