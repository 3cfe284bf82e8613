"""Offline stand-in for the get-pip.py that ansible-test downloads to bootstrap its venvs.

ansible-test fetches that script from a host our machines cannot reach; PyPI is reachable, so this
script installs pip with the interpreter's bundled ``ensurepip`` and then lets pip install the
packages ansible-test asked for (e.g. ``pip==24.2``) from PyPI.
"""

import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}


def main():
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    pip_args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + pip_args)


if __name__ == "__main__":
    main()
