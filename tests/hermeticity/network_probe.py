"""Run inside a build action: record whether it can reach a listener outside its sandbox.

    network_probe.py --kind MNEMONIC --tcp 127.0.0.1:PORT --dns 127.0.0.1:PORT --out REPORT.json

The listener (network_check.py) runs on the host's loopback interface, outside every
sandbox. An action in its own network namespace has a loopback of its own, where
nothing listens, so both attempts fail; an action that shares the host's network
reaches the listener, which records it. Only loopback addresses are accepted: the
proof never sends traffic anywhere else.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import struct

TIMEOUT_SECONDS = 3
# Under a name no resolver knows (RFC 2606); only the check's own responder answers it.
QUERY_DOMAIN = "probe.kiln.invalid"
QUERY_ID = 0x6B6E


def loopback_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError
        return host, int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a loopback HOST:PORT such as 127.0.0.1:5353") from None


def dns_query(name: str, query_id: int) -> bytes:
    """A standard query (RFC 1035) for the A record of `name`, recursion desired."""
    header = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(label)]) + label.encode("ascii") for label in name.split("."))
    return header + labels + b"\x00" + struct.pack(">HH", 1, 1)


def try_tcp(address: tuple[str, int], kind: str) -> str:
    try:
        with socket.create_connection(address, timeout=TIMEOUT_SECONDS) as connection:
            connection.sendall(f"{kind}\n".encode())
    except OSError as error:
        return f"failed: {type(error).__name__}"
    return "reached"


def try_dns(address: tuple[str, int], kind: str) -> str:
    # The name asked for names the probe, so the responder's log says which action asked.
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(TIMEOUT_SECONDS)
            udp.sendto(dns_query(f"{kind.lower()}.{QUERY_DOMAIN}", QUERY_ID), address)
            reply, _ = udp.recvfrom(512)
    except OSError as error:
        return f"failed: {type(error).__name__}"
    return "answered" if reply[:2] == struct.pack(">H", QUERY_ID) else "failed: unexpected reply"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", required=True, help="the mnemonic this probe runs as")
    parser.add_argument("--tcp", required=True, type=loopback_address, help="the listener's TCP HOST:PORT")
    parser.add_argument("--dns", required=True, type=loopback_address, help="the listener's DNS (UDP) HOST:PORT")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    report = {
        "kind": args.kind,
        "interfaces": sorted(name for _, name in socket.if_nameindex()),
        "tcp": try_tcp(args.tcp, args.kind),
        "dns": try_dns(args.dns, args.kind),
    }
    with open(args.out, "w", encoding="utf-8") as stream:
        json.dump(report, stream, indent=2, sort_keys=True)
        stream.write("\n")


if __name__ == "__main__":
    main()
