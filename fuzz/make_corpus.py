#!/usr/bin/env python3
"""Regenerates the chain fuzzer's seeds and fixed anchors from a fresh test PKI
(tests/fixtures/tls/make-pki.sh): fuzz/chain_anchors.pem and fuzz/corpus/chain_fuzzer/*.der.

Each seed is the chain as a server would present it (concatenated DER) followed by the four
parameter bytes chain_fuzzer.cpp reads from the end: flags, host, time and library error, last
byte first. The committed files only need regenerating when that layout changes; nothing in them
expires for the fuzzer, whose clock is an input.

    fuzz/make_corpus.py
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_PKI = os.path.join(HERE, "..", "tests", "fixtures", "tls", "make-pki.sh")

# Indexes into chain_fuzzer.cpp's tables.
HOSTS = {"": 0, "good.test": 1, "wrong.test": 5, "a.wild.test": 6, "sanonly.test": 8,
         "mixed.test": 9, "cnonly.test": 12}
PRIVATE = 1          # flags bit 0: private-CA mode
LAST_IS_ANCHOR = 2   # flags bits 1-2: the last presented certificate is an anchor too
NO_ERROR = 0
EXPIRED_ERROR = 1
SEED_TIME = 0

# name -> (presented certificates, flags, expected host, library error)
SEEDS = {
    "good-int": (["good", "int"], 0, "good.test", NO_ERROR),
    "good-int-private": (["good", "int"], PRIVATE, "good.test", NO_ERROR),
    "good-int-root": (["good", "int", "root"], 0, "good.test", NO_ERROR),
    "int-good": (["int", "good"], 0, "good.test", NO_ERROR),
    "good-only": (["good"], 0, "good.test", NO_ERROR),
    "root-only": (["root"], 0, "", NO_ERROR),
    "expired-int": (["expired", "int"], 0, "good.test", EXPIRED_ERROR),
    "notyet-int": (["notyet", "int"], 0, "good.test", NO_ERROR),
    "wrongcn-int": (["wrongcn", "int"], 0, "good.test", 3),
    "selfsigned": (["selfsigned"], 0, "good.test", NO_ERROR),
    "selfsigned-anchor": (["selfsigned"], PRIVATE | LAST_IS_ANCHOR, "good.test", NO_ERROR),
    "by-leaf-good-int": (["by-leaf", "good", "int"], 0, "good.test", 4),
    "leaf2-int2": (["leaf2", "int2"], PRIVATE, "good.test", NO_ERROR),
    "leaf2-int2-root2": (["leaf2", "int2", "root2"], 0, "good.test", NO_ERROR),
    "leaf2-int2-root2-anchor": (["leaf2", "int2", "root2"], PRIVATE | LAST_IS_ANCHOR, "good.test",
                                NO_ERROR),
    "leafexpint-intexp-root": (["leaf-expint", "int-expired", "root"], 0, "good.test", NO_ERROR),
    "mixedsan-int": (["mixedsan", "int"], 0, "mixed.test", NO_ERROR),
    "wildcard-int": (["wildcard", "int"], 0, "a.wild.test", NO_ERROR),
    "cnonly-int": (["cnonly", "int"], 0, "cnonly.test", NO_ERROR),
    "sanonly-int": (["sanonly", "int"], 0, "sanonly.test", NO_ERROR),
    "good-int-impostor": (["good", "int", "root-impostor"], 0, "good.test", NO_ERROR),
    "leaf-direct": (["leaf-direct"], 0, "good.test", NO_ERROR),
    "good-int-int2-root": (["good", "int", "int2", "root"], 0, "good.test", NO_ERROR),
}


def der(pki, name):
    return subprocess.run(["openssl", "x509", "-in", os.path.join(pki, name + ".pem"),
                           "-outform", "DER"], check=True, capture_output=True).stdout


def main():
    corpus = os.path.join(HERE, "corpus", "chain_fuzzer")
    os.makedirs(corpus, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bhe-fuzz-pki-") as pki:
        subprocess.run(["sh", MAKE_PKI, pki], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(pki, "root.pem"), "rb") as f:
            root = f.read()
        with open(os.path.join(HERE, "chain_anchors.pem"), "wb") as f:
            f.write(root)
        for name in os.listdir(corpus):
            os.remove(os.path.join(corpus, name))
        for name, (chain, flags, host, error) in SEEDS.items():
            trailer = bytes([error, SEED_TIME, HOSTS[host], flags])  # the last byte is read first
            with open(os.path.join(corpus, name + ".der"), "wb") as f:
                f.write(b"".join(der(pki, c) for c in chain) + trailer)
    print(f"{len(SEEDS)} seeds in {corpus}")


if __name__ == "__main__":
    sys.exit(main())
