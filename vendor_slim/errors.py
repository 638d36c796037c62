"""One error type per exit code of the contract; the CLI maps them, nothing else prints tracebacks."""

from __future__ import annotations

from collections.abc import Sequence


class VendorSlimError(Exception):
    """Base class: a message for the user and the exit code the contract gives it."""

    exit_code = 2

    def __init__(self, message: str, *, chain: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.chain = tuple(chain)

    def render(self) -> str:
        if not self.chain:
            return self.message
        lines = [self.message, "include chain:"]
        lines += [f"  {'  ' * i}{p}" for i, p in enumerate(self.chain)]
        return "\n".join(lines)


class BadInput(VendorSlimError):
    """Exit 2: missing path, unrecognised tree, invalid rules, unresolved header, bad --out."""

    exit_code = 2


class CheckFailed(VendorSlimError):
    """Exit 1: verify or the oracle found a difference."""

    exit_code = 1


class ExternalToolError(VendorSlimError):
    """Exit 3: an external tool (generator, nvcc, cmake) failed; carries its command and output tail."""

    exit_code = 3

    def __init__(self, message: str, *, command: Sequence[str], returncode: int, output: str) -> None:
        self.command = tuple(command)
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-25:])
        cmd = " ".join(self.command)
        super().__init__(f"{message}\ncommand (exit {returncode}): {cmd}\n--- output tail ---\n{tail}")
