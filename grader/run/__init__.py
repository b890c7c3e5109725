"""Running untrusted code: the sandbox, the kernel, the harness that calls the student's functions,
the decoder of what comes back, and the confined model inspector. Nothing here decides a score."""
