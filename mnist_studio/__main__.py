"""``python -m mnist_studio`` does exactly what the ``mnist-studio`` command does."""

from mnist_studio.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
