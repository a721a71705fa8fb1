"""The built-in digits model: an 8x8 class-conditional denoiser and a digit encoder (assets/digits/)."""
