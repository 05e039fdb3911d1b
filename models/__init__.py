"""nn.Modules shared by the demos and the training scripts (no Gradio, no argparse here)."""
