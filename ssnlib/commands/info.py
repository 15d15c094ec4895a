"""``ssn info``: versions and the device ``ssnlib`` would use."""

from __future__ import annotations

from ssnlib.utils import environment_report


def add_info_command(parser):
    """`ssn info`: print versions and the device."""
    def run(args) -> int:
        for key, value in environment_report().items():
            print(f"{key:8s} {value}")
        return 0
    return run
