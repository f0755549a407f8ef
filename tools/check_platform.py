"""Say, before anything is installed, whether MXNet 1.9.1 can run here.

Run with the Python that will create `.venv`. Exit status 1 with a message that
names the problem and the fix when the platform or the Python version has no
MXNet wheel; 0 otherwise.
"""
import platform
import sys

SUPPORTED_PYTHONS = ((3, 8), (3, 9), (3, 10), (3, 11))
WHEEL_PLATFORMS = {("Linux", "x86_64"), ("Linux", "aarch64"), ("Darwin", "x86_64")}

ADVICE = """\
mxnet==1.9.1 (the last MXNet release) has wheels only for Linux x86_64, Linux aarch64
and Intel macOS. On this machine, use one of:
  - Apple Silicon Mac: an x86_64 Python under Rosetta 2, e.g.
        arch -x86_64 /usr/local/bin/python3.11 -m venv .venv   (Intel Homebrew Python)
    then `make install PYTHON="arch -x86_64 /usr/local/bin/python3.11"`;
  - Windows: WSL2 with Ubuntu or Debian, then `make demo` inside WSL2;
  - or any Linux machine (a VM or a server)."""


def problems(system, machine, version):
    """Return the reasons (possibly none) this platform cannot run the course."""
    found = []
    if (system, machine) not in WHEEL_PLATFORMS:
        found.append(f"no MXNet wheel for {system} {machine}.\n{ADVICE}")
    if tuple(version[:2]) not in SUPPORTED_PYTHONS:
        found.append(
            f"Python {version[0]}.{version[1]} is not supported: MXNet 1.9.1 and the pinned "
            "stack need Python 3.8-3.11. Install one (e.g. `apt-get install python3.11` or "
            "pyenv) and run `make install PYTHON=python3.11`.")
    return found


def main():
    machine = platform.machine().lower().replace("amd64", "x86_64").replace("arm64", "aarch64")
    if platform.system() == "Darwin" and machine == "aarch64":
        machine = "arm64"  # Apple Silicon: never aarch64 Linux wheels
    found = problems(platform.system(), machine, sys.version_info)
    for reason in found:
        print(f"d2lcourse: cannot install here: {reason}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
