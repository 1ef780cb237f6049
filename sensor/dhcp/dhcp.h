/* dhcp.h — what the network assigns: DHCPv4, DHCPv6 and IPv6 RA parsers.
 *
 * RFC 2131/2132 (DHCPv4, options, overload), RFC 3396 (long options),
 * RFC 4702 (client FQDN), RFC 8520 (MUD URL), RFC 9463 (DNR), RFC 8415
 * (DHCPv6, relays), RFC 3646 (DHCPv6 DNS), RFC 4704 (DHCPv6 FQDN),
 * RFC 4861 (RA), RFC 8106 (RDNSS, DNSSL), RFC 4191 (route information),
 * RFC 9460/9461 (SvcParams alpn, port, dohpath).
 *
 * Pure parsers: each fills a fixed-size result struct from one message and
 * keeps no state between calls. Everything kept is copied (addresses, names
 * as text, identifiers as bytes), so a result outlives the packet. No
 * allocation, no globals, no I/O. A malformed message is data: parsing keeps
 * what it got, names the first problem in `anomaly` and sets a bit per
 * problem in `anomalies`.
 */
#ifndef SW_DHCP_DHCP_H
#define SW_DHCP_DHCP_H

#include <stddef.h>
#include <stdint.h>

#define DHCP_DNS_MAX 8      /* resolvers kept per message: networks assign 1-3;
                             * more are counted in dns_dropped */
#define DHCP_DNR_MAX 4      /* DNR instances kept: RFC 9463 servers send one per
                             * resolver, a network runs a few */
#define DHCP_DNR_ADDR_MAX 4 /* addresses kept per DNR instance */
#define DHCP_NAME_TEXT 256  /* a name as text: 253 characters for the longest
                             * plain name (RFC 1035 §2.3.4) + NUL; a name with
                             * escapes that does not fit is cut at a label */
#define DHCP_TEXT_MAX 256   /* a text option as escaped text: one DHCPv4 option
                             * holds 255 octets (RFC 2132 §2); longer values
                             * (RFC 3396, DHCPv6) are cut, never mid-escape */
#define DHCP_ID_MAX 136     /* identifier bytes kept: DUID up to 128 octets + 2
                             * of type (RFC 8415 §11.1), and RFC 4361's type,
                             * IAID and DUID in DHCPv4 option 61 (1+4+130) */
#define DHCP_ALPN_TEXT 64   /* "dot,doq,h2,h3" and room to spare */
#define DHCP_SEARCH_MAX 8   /* search domains kept (DHCPv6 24, RA DNSSL) */
#define DHCP6_ADDR_MAX 4    /* IA_NA addresses kept: a client asks for one */
#define DHCP6_RELAY_MAX 8   /* relay layers followed: RFC 8415 §7.6 sets
                             * HOP_COUNT_LIMIT to 8 and a relay drops a
                             * Relay-forw whose hop-count reached it (§19.1.1),
                             * so no legitimate chain is deeper (RFC 3315 had
                             * 32; 8 also bounds the work per packet) */
#define RA_PREFIX_MAX 8     /* prefix information options kept per RA */
#define RA_ROUTE_MAX 4      /* route information options kept per RA */

/* Parse problems, shared by the three parsers; names come from
 * dhcp_anomaly_name(). */
enum dhcp_anomaly {
	DHCP_A_NONE = 0,
	DHCP_A_HDR_TRUNC,      /* shorter than the fixed header */
	DHCP_A_NO_COOKIE,      /* DHCPv4: no magic cookie 99.130.83.99 (RFC 2131 §3) */
	DHCP_A_OPT_TRUNC,      /* an option's length byte(s) or value run past the end of its field */
	DHCP_A_NO_END,         /* DHCPv4: an option field without the End option (RFC 2131 §4.1) */
	DHCP_A_OPT_BAD_LEN,    /* a fixed-size option of the wrong length */
	DHCP_A_OVERLOAD_LOOP,  /* DHCPv4: option 52 inside `file` or `sname` (RFC 2131 §4.1) */
	DHCP_A_OVERLOAD_BAD,   /* DHCPv4: option 52 value not 1, 2 or 3 (RFC 2132 §9.3) */
	DHCP_A_CONCAT_LONG,    /* DHCPv4: a repeated option longer than the scratch (RFC 3396) */
	DHCP_A_HLEN_BAD,       /* DHCPv4: hlen > 16 (RFC 2131 §2) */
	DHCP_A_NAME_BAD,       /* a wire-format name with a pointer, a bad label, past 255 octets */
	DHCP_A_DNR_BAD,        /* a DNR option whose inner lengths lie (RFC 9463 §4.1, §5.1, §6.1) */
	DHCP_A_SVCPARAM_BAD,   /* SvcParams whose lengths lie or keys are not ascending (RFC 9460 §2.2) */
	DHCP_A_RELAY_DEEP,     /* DHCPv6: relays nested deeper than DHCP6_RELAY_MAX */
	DHCP_A_RELAY_NO_MSG,   /* DHCPv6: a relay message without Relay Message option (RFC 8415 §9) */
	DHCP_A_RA_LEN_ZERO,    /* RA: an option with length 0, parsing stops (RFC 4861 §4.6) */
	DHCP_A_MAX
};

/* One DNR instance (RFC 9463): an encrypted resolver offered by name. */
struct dhcp_dnr {
	uint16_t priority;         /* Service Priority; 0 is reserved (§3.1.1) */
	uint32_t lifetime;         /* RA only (§6.1), seconds; 0 for DHCP */
	uint8_t adn_only;          /* 1: no addresses and no SvcParams (§3.1.6) */
	uint8_t family;            /* 4 or 6: how to read addr[] */
	uint8_t naddr;             /* addresses kept in addr[] */
	uint8_t addr_dropped;      /* addresses past DHCP_DNR_ADDR_MAX */
	uint8_t addr[DHCP_DNR_ADDR_MAX][16]; /* IPv4 in the first 4 bytes */
	char adn[DHCP_NAME_TEXT];  /* Authentication Domain Name, without final dot */
	char alpn[DHCP_ALPN_TEXT]; /* SvcParam alpn (key 1) ids joined by ',' (escaped) */
	uint8_t has_port;
	uint16_t port;             /* SvcParam port (key 3) */
	char dohpath[DHCP_TEXT_MAX]; /* SvcParam dohpath (key 7, RFC 9461), escaped */
};

/* Tests and sets bit `code` in a 256-bit set (uint8_t[32]). */
static inline int dhcp_bit(const uint8_t *set, unsigned code)
{
	return code < 256 && (set[code >> 3] >> (code & 7) & 1);
}

/* --- DHCPv4 (RFC 2131, RFC 2132) --------------------------------------- */

/* DHCPv4 message types (option 53, RFC 2132 §9.6, RFC 4388, RFC 6926). */
enum dhcp4_type {
	DHCP4_DISCOVER = 1, DHCP4_OFFER = 2, DHCP4_REQUEST = 3, DHCP4_DECLINE = 4,
	DHCP4_ACK = 5, DHCP4_NAK = 6, DHCP4_RELEASE = 7, DHCP4_INFORM = 8
};

struct dhcp4_info {
	uint8_t op;                /* 1 BOOTREQUEST, 2 BOOTREPLY */
	uint8_t htype, hlen;       /* hardware type (1 Ethernet) and address length */
	uint8_t hops;
	uint32_t xid;              /* transaction id */
	uint16_t secs, flags;      /* flags: 0x8000 broadcast */
	uint8_t ciaddr[4], yiaddr[4], siaddr[4], giaddr[4];
	uint8_t chaddr[16];        /* client hardware address, hlen bytes used */
	uint8_t has_mac;           /* htype 1, hlen 6: chaddr[0..5] is the MAC */

	uint8_t has_cookie;        /* options were parsed at all */
	uint8_t msg_type;          /* option 53, 0 when absent (BOOTP) */
	uint8_t overload;          /* option 52: 1 file, 2 sname, 3 both */
	uint8_t opt_seen[32];      /* bit per option code present */
	uint8_t opt_bad[32];       /* bit per option code present but unusable */

	uint8_t ndns;              /* option 6 (RFC 2132 §3.8) */
	uint8_t dns_dropped;       /* servers past DHCP_DNS_MAX */
	uint8_t dns[DHCP_DNS_MAX][4];
	uint8_t router[4];         /* option 3, first router */
	uint8_t nrouters;
	uint8_t requested_ip[4];   /* option 50 */
	uint8_t server_id[4];      /* option 54 */
	uint32_t lease_time;       /* option 51, seconds */

	char hostname[DHCP_TEXT_MAX];     /* option 12, escaped text */
	char domain_name[DHCP_TEXT_MAX];  /* option 15, escaped text */
	char vendor_class[DHCP_TEXT_MAX]; /* option 60, escaped text */
	char mud_url[DHCP_TEXT_MAX];      /* option 161 (RFC 8520 §10), escaped text */
	uint16_t client_id_len;           /* option 61 length as sent */
	uint8_t client_id[DHCP_ID_MAX];   /* its first bytes (type, then id) */

	uint8_t fqdn_flags;               /* option 81 (RFC 4702 §2.1): N E O S */
	char fqdn[DHCP_NAME_TEXT];        /* its name, either encoding; partial names kept */

	uint8_t prl[32];                  /* option 55: bit per code the client asked for */
	uint8_t prl_count;                /* codes listed in it */

	uint8_t ndnr;                     /* option 162 instances kept */
	uint8_t dnr_dropped;
	struct dhcp_dnr dnr[DHCP_DNR_MAX];

	uint8_t anomaly;                  /* enum dhcp_anomaly: the first one seen */
	uint32_t anomalies;               /* bit (1u << a) per anomaly seen */
};

/* Parses one DHCPv4/BOOTP message (the UDP payload on ports 67/68) into
 * *out, which it clears first. Options are read from the options field,
 * then `file`, then `sname` when option 52 says so (RFC 2131 §4.1), and a
 * code that appears several times is the concatenation of its instances
 * (RFC 3396 §5). Returns 0 when the 236-byte fixed header parsed (options
 * may be missing or damaged: see out->anomaly), SW_ETRUNC when shorter.
 * Never reads outside p[0..len). */
int dhcp4_parse(const uint8_t *p, size_t len, struct dhcp4_info *out);

/* "DISCOVER", "ACK", ... (no "DHCP" prefix), or NULL for an unknown type. */
const char *dhcp4_msgtype_name(int type);

/* --- DHCPv6 (RFC 8415) ------------------------------------------------- */

enum dhcp6_type {
	DHCP6_SOLICIT = 1, DHCP6_ADVERTISE = 2, DHCP6_REQUEST = 3, DHCP6_CONFIRM = 4,
	DHCP6_RENEW = 5, DHCP6_REBIND = 6, DHCP6_REPLY = 7, DHCP6_RELEASE = 8,
	DHCP6_DECLINE = 9, DHCP6_RECONFIGURE = 10, DHCP6_INFO_REQ = 11,
	DHCP6_RELAY_FORW = 12, DHCP6_RELAY_REPL = 13
};

struct dhcp6_addr {
	uint32_t iaid;             /* of the IA_NA holding it */
	uint8_t addr[16];
	uint32_t preferred, valid; /* lifetimes, seconds */
};

struct dhcp6_info {
	uint8_t msg_type;          /* the innermost message's type */
	uint32_t xid;              /* its 24-bit transaction id */
	uint8_t relay_type;        /* 12 or 13 when the message came in a relay, else 0 */
	uint8_t relay_depth;       /* relay layers descended */
	uint8_t link_addr[16];     /* innermost relay's link-address */
	uint8_t peer_addr[16];     /* innermost relay's peer-address (the client) */
	uint8_t opt_seen[32];      /* bit per option code < 256 seen in the innermost message */

	uint16_t client_duid_len;  /* option 1 length as sent */
	uint8_t client_duid[DHCP_ID_MAX];
	uint16_t server_duid_len;  /* option 2 */
	uint8_t server_duid[DHCP_ID_MAX];

	uint8_t naddr;             /* IA_NA (3) → IAADDR (5) addresses kept */
	uint8_t addr_dropped;
	struct dhcp6_addr addr[DHCP6_ADDR_MAX];

	uint8_t oro[32];           /* option 6 (ORO): bit per requested code < 256 */
	uint8_t oro_count;

	uint8_t ndns;              /* option 23 (RFC 3646 §3) */
	uint8_t dns_dropped;
	uint8_t dns[DHCP_DNS_MAX][16];
	uint8_t nsearch;           /* option 24 (RFC 3646 §4) names kept */
	uint8_t search_dropped;
	char search[DHCP_SEARCH_MAX][DHCP_NAME_TEXT];

	char mud_url[DHCP_TEXT_MAX];   /* option 112 (RFC 8520 §10) */
	uint8_t fqdn_flags;            /* option 39 (RFC 4704 §4.1): N O S */
	char fqdn[DHCP_NAME_TEXT];

	uint8_t ndnr;                  /* option 144 (RFC 9463 §4.1) */
	uint8_t dnr_dropped;
	struct dhcp_dnr dnr[DHCP_DNR_MAX];

	uint8_t anomaly;
	uint32_t anomalies;
};

/* Parses one DHCPv6 message (the UDP payload on ports 546/547) into *out,
 * which it clears first. A Relay-forw/Relay-repl is descended through its
 * Relay Message option (9) at most DHCP6_RELAY_MAX layers; the fields then
 * describe the innermost message. Returns 0 when a message header parsed,
 * SW_ETRUNC when the outer header is short. */
int dhcp6_parse(const uint8_t *p, size_t len, struct dhcp6_info *out);

/* "SOLICIT", "REPLY", "RELAY-FORW", ... or NULL for an unknown type. */
const char *dhcp6_msgtype_name(int type);

/* --- Router Advertisement (RFC 4861 §4.2) ------------------------------ */

#define RA_F_MANAGED 0x80      /* M: addresses from DHCPv6 */
#define RA_F_OTHER 0x40        /* O: other configuration (DNS) from DHCPv6 */

struct ra_prefix {
	uint8_t prefix[16];
	uint8_t len;               /* prefix length in bits */
	uint8_t flags;             /* 0x80 L (on-link), 0x40 A (autonomous) */
	uint32_t valid, preferred; /* lifetimes, seconds */
};

struct ra_route {
	uint8_t prefix[16];
	uint8_t len;
	uint8_t prf;               /* route preference, 2 bits (RFC 4191 §2.3) */
	uint32_t lifetime;
};

struct ra_rdnss {
	uint8_t addr[16];
	uint32_t lifetime;         /* of the RDNSS option that carried it */
};

struct ra_dnssl {
	char name[DHCP_NAME_TEXT];
	uint32_t lifetime;
};

struct ra_info {
	uint8_t cur_hop_limit;
	uint8_t flags;             /* RA_F_MANAGED, RA_F_OTHER, H, Prf, ... as sent */
	uint16_t router_lifetime;  /* seconds; 0: not a default router */
	uint32_t reachable, retrans; /* milliseconds */

	uint8_t has_slla;
	uint8_t slla[6];           /* source link-layer address (option 1) */
	uint8_t has_mtu;
	uint32_t mtu;              /* option 5 */
	uint8_t nprefix;           /* option 3 */
	uint8_t prefix_dropped;
	struct ra_prefix prefix[RA_PREFIX_MAX];
	uint8_t nroute;            /* option 24 */
	uint8_t route_dropped;
	struct ra_route route[RA_ROUTE_MAX];

	uint8_t nrdnss;            /* option 25 addresses, over all RDNSS options */
	uint8_t rdnss_dropped;
	struct ra_rdnss rdnss[DHCP_DNS_MAX];
	uint8_t ndnssl;            /* option 31 names, over all DNSSL options */
	uint8_t dnssl_dropped;
	struct ra_dnssl dnssl[DHCP_SEARCH_MAX];

	uint8_t ndnr;              /* option 144 (RFC 9463 §6.1) */
	uint8_t dnr_dropped;
	struct dhcp_dnr dnr[DHCP_DNR_MAX];

	uint8_t anomaly;
	uint32_t anomalies;
};

/* Parses a Router Advertisement body (after the ICMPv6 type, code and
 * checksum, so starting at Cur Hop Limit) into *out, which it clears first.
 * An option of length 0 stops parsing (RFC 4861 §4.6: the receiver discards
 * the packet; the sensor keeps what came before and flags it). Returns 0
 * when the 12-byte header parsed, SW_ETRUNC when shorter. */
int ra_parse(const uint8_t *p, size_t len, struct ra_info *out);

/* "dhcp_opt_trunc", ... for an enum dhcp_anomaly; never NULL. */
const char *dhcp_anomaly_name(int a);

#endif
