#!/usr/bin/env python3
"""Crafted captures for encrypted DNS: DoT, DoH, DoQ, DDR and near-misses.

Each craft_<case>() returns (linktype, [(ts_us, frame_bytes)]) like
tests/pcap/craft.py, whose wire helpers it uses. TLS ClientHellos are built
field by field (RFC 8446 §4.1.2); QUIC Initials are protected here as a
client would (RFC 9001 §5: HKDF from the client's DCID, AES-128-GCM,
header protection), with AES written out in Python because the standard
library has none. aes_selftest() checks it against RFC 9001 Appendix A.
"""
import hashlib
import hmac
import struct

import craft
from craft import (ACK, DEV, DEV2, DEV_IP, DEV2_IP, ETH, FIN, PSH, RES_IP, ROUTER, SYN, T0,
                   dns, rr, tcp4, udp4)

# --- TLS ClientHello ------------------------------------------------------------


def _u8(b):
    return bytes([len(b)]) + b


def _u16(b):
    return struct.pack("!H", len(b)) + b


def _ext(t, body):
    return struct.pack("!H", t) + _u16(body)


def client_hello(sni=None, alpn=(), quic=False, seed=1):
    """A TLS 1.3 ClientHello handshake message (type 1, u24 length, body)."""
    rnd = hashlib.sha256(b"random%d" % seed).digest()
    ciphers = [0x1301, 0x1302, 0x1303] + ([] if quic else [0xc02b, 0xc02f, 0xcca9])
    exts = b""
    if sni is not None:
        host = sni.encode()
        exts += _ext(0, _u16(b"\x00" + _u16(host)))                  # RFC 6066 §3
    exts += _ext(0x000a, _u16(struct.pack("!HH", 0x001d, 0x0017)))   # groups
    if not quic:
        exts += _ext(0x000b, _u8(b"\x00"))                           # point formats
    exts += _ext(0x000d, _u16(struct.pack("!HHH", 0x0403, 0x0804, 0x0401)))
    if alpn:
        exts += _ext(0x0010, _u16(b"".join(_u8(a.encode()) for a in alpn)))  # RFC 7301
    exts += _ext(0x002b, _u8(struct.pack("!H", 0x0304)))             # supported_versions
    exts += _ext(0x0033, _u16(struct.pack("!HH", 0x001d, 32) + hashlib.sha256(rnd).digest()))
    exts += _ext(0x002d, _u8(b"\x01"))                                # psk modes
    if quic:
        # RFC 9000 §18.2: initial_max_data (4), initial_source_connection_id (0x0f)
        exts += _ext(0x0039, b"\x04\x04\x80\x10\x00\x00" + b"\x0f\x08" + b"\x11" * 8)
    sid = b"" if quic else rnd[:32]
    body = (struct.pack("!H", 0x0303) + rnd + _u8(sid) +
            _u16(b"".join(struct.pack("!H", c) for c in ciphers)) + b"\x01\x00" + _u16(exts))
    return b"\x01" + struct.pack("!I", len(body))[1:] + body


def tls_record(msg, ctype=0x16):
    return struct.pack("!BHH", ctype, 0x0301 if ctype == 0x16 else 0x0303, len(msg)) + msg


# --- AES-128 and GCM (FIPS 197, NIST SP 800-38D) ----------------------------------

def _xt(a):
    return ((a << 1) ^ 0x1b) & 0xff if a & 0x80 else a << 1


def _sbox():
    inv = [0] * 256
    for a in range(1, 256):
        for b in range(1, 256):
            x, y, p = a, b, 0
            while y:
                if y & 1:
                    p ^= x
                x = _xt(x)
                y >>= 1
            if p == 1:
                inv[a] = b
                break
    box = []
    for a in range(256):
        x = inv[a]
        s = x
        for _ in range(4):
            x = ((x << 1) | (x >> 7)) & 0xff
            s ^= x
        box.append(s ^ 0x63)
    return box


SBOX = _sbox()


def _expand(key):
    w = [list(key[i:i + 4]) for i in range(0, 16, 4)]
    rcon = 1
    for i in range(4, 44):
        t = list(w[i - 1])
        if i % 4 == 0:
            t = [SBOX[b] for b in t[1:] + t[:1]]
            t[0] ^= rcon
            rcon = _xt(rcon)
        w.append([a ^ b for a, b in zip(w[i - 4], t)])
    return [sum(w[r * 4:r * 4 + 4], []) for r in range(11)]


def aes_encrypt(rk, block):
    s = [a ^ b for a, b in zip(block, rk[0])]
    for r in range(1, 11):
        s = [SBOX[b] for b in s]
        s = [s[(i + 4 * (i % 4)) % 16] for i in range(16)]      # ShiftRows (column-major)
        if r != 10:
            out = []
            for c in range(4):
                a = s[4 * c:4 * c + 4]
                t = a[0] ^ a[1] ^ a[2] ^ a[3]
                out += [a[i] ^ t ^ _xt(a[i] ^ a[(i + 1) % 4]) for i in range(4)]
            s = out
        s = [a ^ b for a, b in zip(s, rk[r])]
    return bytes(s)


def _gmul(x, y):
    r = 0xe1 << 120
    z = 0
    for i in range(127, -1, -1):
        if (y >> i) & 1:
            z ^= x
        x = (x >> 1) ^ r if x & 1 else x >> 1
    return z


def aes_gcm_encrypt(key, nonce, plain, aad):
    rk = _expand(key)
    h = int.from_bytes(aes_encrypt(rk, bytes(16)), "big")
    j0 = nonce + b"\x00\x00\x00\x01"
    out = bytearray()
    for i in range(0, len(plain), 16):
        ctr = nonce + struct.pack("!I", 2 + i // 16)
        ks = aes_encrypt(rk, ctr)
        out += bytes(a ^ b for a, b in zip(plain[i:i + 16], ks))
    y = 0
    for data in (aad, bytes(out)):
        padded = data + bytes(-len(data) % 16)
        for i in range(0, len(padded), 16):
            y = _gmul(y ^ int.from_bytes(padded[i:i + 16], "big"), h)
    y = _gmul(y ^ ((len(aad) * 8) << 64 | len(out) * 8), h)
    tag = bytes(a ^ b for a, b in zip(aes_encrypt(rk, j0), y.to_bytes(16, "big")))
    return bytes(out) + tag


# --- QUIC Initial (RFC 9000 §17.2.2, RFC 9001 §5) ------------------------------------

SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")


def _expand_label(secret, label, length):
    full = b"tls13 " + label.encode()
    info = struct.pack("!H", length) + _u8(full) + b"\x00"
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(secret, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def initial_keys(dcid):
    initial = hmac.new(SALT_V1, dcid, hashlib.sha256).digest()
    cs = _expand_label(initial, "client in", 32)
    return (_expand_label(cs, "quic key", 16), _expand_label(cs, "quic iv", 12),
            _expand_label(cs, "quic hp", 16))


def _varint(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return struct.pack("!H", 0x4000 | n)
    return struct.pack("!I", 0x80000000 | n)


def quic_initial(dcid, scid, hello, pn=0, size=1200):
    """A client Initial carrying `hello` in one CRYPTO frame, padded to
    `size` bytes (RFC 9000 §14.1), protected for version 1."""
    key, iv, hp = initial_keys(dcid)
    pn_len = 4
    frames = b"\x06" + _varint(0) + _varint(len(hello)) + hello
    hdr_wo_len = (bytes([0xc0 | (pn_len - 1)]) + struct.pack("!I", 1) + _u8(dcid) + _u8(scid) +
                  _varint(0))
    overhead = len(hdr_wo_len) + 2 + pn_len + 16
    if overhead + len(frames) < size:
        frames += bytes(size - overhead - len(frames))   # PADDING frames
    length = _varint(pn_len + len(frames) + 16)
    if len(length) == 1:
        length = struct.pack("!H", 0x4000 | (pn_len + len(frames) + 16))
    header = hdr_wo_len + length + struct.pack("!I", pn)
    nonce = bytes(a ^ b for a, b in zip(iv, bytes(8) + struct.pack("!I", pn)))
    ct = aes_gcm_encrypt(key, nonce, frames, header)
    pn_off = len(header) - pn_len
    sample = ct[4 - pn_len:4 - pn_len + 16]
    mask = aes_encrypt(_expand(hp), sample)
    h = bytearray(header)
    h[0] ^= mask[0] & 0x0f
    for i in range(pn_len):
        h[pn_off + i] ^= mask[1 + i]
    return bytes(h) + ct


def aes_selftest():
    """FIPS 197 C.1 and RFC 9001 A.1/A.2."""
    assert aes_encrypt(_expand(bytes(range(16))), bytes.fromhex("00112233445566778899aabbccddeeff")) \
        == bytes.fromhex("69c4e0d86a7b0430d8cdb78070b4c55a")
    key, iv, hp = initial_keys(bytes.fromhex("8394c8f03e515708"))
    assert key.hex() == "1f369613dd76d5467730efcbe3b1a22d"
    assert iv.hex() == "fa044b2f42a3fd3b46fb255c"
    assert hp.hex() == "9f50449e04a0e810283a1e9933adedd2"
    # NIST GCM test case 2 (key 0, iv 0, one zero block).
    assert aes_gcm_encrypt(bytes(16), bytes(12), bytes(16), b"").hex() == \
        "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"


# --- sessions -------------------------------------------------------------------------

SRV_MAC = ROUTER


def tls_session(ts, cmac, cip, sip, cport, sport, hello_msg, seq=1000, srv_seq=5000,
                split=False):
    """TCP handshake, the ClientHello (in one segment or two), a server
    flight, a little application data, and a FIN close."""
    rec = tls_record(hello_msg)
    pk = []
    c, s = seq, srv_seq
    pk.append((ts, tcp4(cmac, SRV_MAC, cip, sip, cport, sport, c, 0, SYN)))
    pk.append((ts + 20000, tcp4(SRV_MAC, cmac, sip, cip, sport, cport, s, c + 1, SYN | ACK)))
    c += 1
    s += 1
    pk.append((ts + 20100, tcp4(cmac, SRV_MAC, cip, sip, cport, sport, c, s, ACK)))
    parts = [rec[:40], rec[40:]] if split else [rec]
    t = ts + 20200
    for part in parts:
        pk.append((t, tcp4(cmac, SRV_MAC, cip, sip, cport, sport, c, s, PSH | ACK, part)))
        c += len(part)
        t += 100
    flight = tls_record(b"\x02\x00\x00\x46" + bytes(70)) + tls_record(bytes(600), 0x17)
    pk.append((ts + 40000, tcp4(SRV_MAC, cmac, sip, cip, sport, cport, s, c, PSH | ACK, flight)))
    s += len(flight)
    app = tls_record(bytes(80), 0x17)
    pk.append((ts + 40500, tcp4(cmac, SRV_MAC, cip, sip, cport, sport, c, s, PSH | ACK, app)))
    c += len(app)
    pk.append((ts + 60000, tcp4(SRV_MAC, cmac, sip, cip, sport, cport, s, c, PSH | ACK, app)))
    s += len(app)
    pk.append((ts + 70000, tcp4(cmac, SRV_MAC, cip, sip, cport, sport, c, s, FIN | ACK)))
    pk.append((ts + 90000, tcp4(SRV_MAC, cmac, sip, cip, sport, cport, s, c + 1, FIN | ACK)))
    pk.append((ts + 90100, tcp4(cmac, SRV_MAC, cip, sip, cport, sport, c + 1, s + 1, ACK)))
    return pk


def quic_session(ts, cmac, cip, sip, cport, sport, hello_msg, dcid):
    """A client Initial, a few server long-header and short-header datagrams
    (opaque), and client short-header packets."""
    pk = [(ts, udp4(cmac, SRV_MAC, cip, sip, cport, sport, quic_initial(dcid, b"\x22" * 8, hello_msg)))]
    srv = bytes([0xc1]) + struct.pack("!I", 1) + _u8(b"\x22" * 8) + _u8(b"\x33" * 8) + bytes(300)
    pk.append((ts + 20000, udp4(SRV_MAC, cmac, sip, cip, sport, cport, srv)))
    for i in range(4):
        pk.append((ts + 30000 + i * 1000, udp4(cmac, SRV_MAC, cip, sip, cport, sport,
                                               b"\x43" + b"\x33" * 8 + bytes(60))))
        pk.append((ts + 40000 + i * 1000, udp4(SRV_MAC, cmac, sip, cip, sport, cport,
                                               b"\x41" + b"\x22" * 8 + bytes(90))))
    return pk


def ip4(s):
    return bytes(int(x) for x in s.split("."))


GOOGLE = ip4("8.8.8.8")
CF = ip4("1.1.1.1")
CF_DOH = ip4("104.16.248.249")   # cloudflare-dns.com
ADGUARD = ip4("94.140.14.14")
CDN = ip4("13.32.0.10")          # an ordinary CDN address, in no resolver list
CDN2 = ip4("151.101.1.10")


def cleartext(ts, n, mac=DEV, ip=DEV_IP, base_id=0x4000, port0=30000):
    """n answered Do53 queries from one device to the router, 1 s apart."""
    pk = []
    for i in range(n):
        q = dns(base_id + i, 0x0100, "q%d.example.com" % i)
        r = dns(base_id + i, 0x8180, "q%d.example.com" % i, answers=[rr(b"\xc0\x0c", 1, 300, craft.A_1)])
        pk.append((ts + i * 1000000, udp4(mac, ROUTER, ip, RES_IP, port0 + i * 7, 53, q)))
        pk.append((ts + i * 1000000 + 3000, udp4(ROUTER, mac, RES_IP, ip, 53, port0 + i * 7, r)))
    return pk


def _sorted(pk):
    return ETH, sorted(pk, key=lambda x: x[0])


# --- cases ------------------------------------------------------------------------------

def craft_enc_dot():
    """DoT: DEV to dns.google (SNI, ALPN dot) twice, the second hello split
    over two segments; DEV2 to 1.1.1.1:853 with neither SNI nor ALPN."""
    pk = cleartext(T0, 3)
    h = client_hello("dns.google", ["dot"], seed=1)
    pk += tls_session(T0 + 5000000, DEV, DEV_IP, GOOGLE, 41000, 853, h)
    pk += tls_session(T0 + 8000000, DEV, DEV_IP, GOOGLE, 41001, 853, h, split=True)
    pk += tls_session(T0 + 9000000, DEV2, DEV2_IP, CF, 42000, 853, client_hello(None, (), seed=2))
    return _sorted(pk)


def craft_enc_doh_sni():
    """DoH by SNI: cloudflare-dns.com on 443 (ALPN h2)."""
    pk = cleartext(T0, 2)
    pk += tls_session(T0 + 4000000, DEV, DEV_IP, CF_DOH, 43000, 443,
                      client_hello("cloudflare-dns.com", ["h2", "http/1.1"], seed=3))
    return _sorted(pk)


def craft_enc_doh_addr():
    """DoH by address: DEV to 1.1.1.1:443 without SNI; DEV2 to 8.8.8.8:443
    with an SNI that is in no list."""
    pk = cleartext(T0, 2)
    pk += tls_session(T0 + 4000000, DEV, DEV_IP, CF, 44000, 443,
                      client_hello(None, ["h2", "http/1.1"], seed=4))
    pk += tls_session(T0 + 6000000, DEV2, DEV2_IP, GOOGLE, 44001, 443,
                      client_hello("resolver.vendor-cloud.example", ["h2"], seed=5))
    return _sorted(pk)


def craft_enc_doq():
    """DoQ: a QUIC v1 Initial to AdGuard on 853/UDP with ALPN doq; and an
    HTTP/3 Initial to a CDN on 443 from the same device, which is not DNS."""
    aes_selftest()
    pk = cleartext(T0, 2)
    pk += quic_session(T0 + 4000000, DEV, DEV_IP, ADGUARD, 45000, 853,
                       client_hello("dns.adguard-dns.com", ["doq"], quic=True, seed=6),
                       bytes.fromhex("0102030405060708"))
    pk += quic_session(T0 + 6000000, DEV, DEV_IP, CDN2, 45001, 443,
                       client_hello("static.shop-cdn.example", ["h3"], quic=True, seed=7),
                       bytes.fromhex("1112131415161718"))
    return _sorted(pk)


def craft_enc_near_miss():
    """Ordinary HTTPS to a CDN over TCP and HTTP/3, HTTPS to 1.1.1.1's
    neighbour, and MQTT over TLS on 8883: none of it is DoH."""
    pk = cleartext(T0, 3)
    pk += tls_session(T0 + 4000000, DEV, DEV_IP, CDN, 46000, 443,
                      client_hello("d111111abcdef8.cloudfront.net", ["h2", "http/1.1"], seed=8))
    pk += quic_session(T0 + 5000000, DEV, DEV_IP, CDN2, 46001, 443,
                       client_hello("www.example-shop.com", ["h3"], quic=True, seed=9),
                       bytes.fromhex("2122232425262728"))
    pk += tls_session(T0 + 6000000, DEV, DEV_IP, ip4("1.1.1.4"), 46002, 443,
                      client_hello("www.example.org", ["h2"], seed=10))
    pk += tls_session(T0 + 7000000, DEV, DEV_IP, CDN, 46003, 8883,
                      client_hello("a1.iot.example.com", ["mqtt"], seed=11))
    return _sorted(pk)


def craft_enc_none():
    """DEV: 25 cleartext queries and nothing encrypted; DEV2: 5 queries."""
    pk = cleartext(T0, 25)
    pk += cleartext(T0 + 500000, 5, DEV2, DEV2_IP, 0x5000, 50000)
    return _sorted(pk)


def craft_enc_ddr():
    """DEV2 asks SVCB _dns.resolver.arpa (RFC 9462) and gets an answer; DEV
    then sends 25 cleartext queries on the same segment."""
    svcb = struct.pack("!HH", 1, 0) + craft.name("dns.router.example") + \
        struct.pack("!HH", 1, 4) + b"\x03dot"
    q = dns(0x0d0d, 0x0100, "_dns.resolver.arpa", 64)
    r = dns(0x0d0d, 0x8180, "_dns.resolver.arpa", 64, answers=[rr(b"\xc0\x0c", 64, 300, svcb)])
    pk = [(T0, udp4(DEV2, ROUTER, DEV2_IP, RES_IP, 51000, 53, q)),
          (T0 + 2000, udp4(ROUTER, DEV2, RES_IP, DEV2_IP, 53, 51000, r))]
    pk += cleartext(T0 + 1000000, 25)
    return _sorted(pk)


def craft_enc_sanctioned():
    """DoT to dns.google, which this case's rules sanction, then 25
    cleartext queries (encryption.none must not fire: DoT was seen)."""
    pk = tls_session(T0, DEV, DEV_IP, GOOGLE, 47000, 853,
                     client_hello("dns.google", ["dot"], seed=12))
    pk += cleartext(T0 + 2000000, 25)
    return _sorted(pk)


if __name__ == "__main__":
    aes_selftest()
    print("aes selftest ok")
