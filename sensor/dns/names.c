/* names.c — mnemonics for DNS types, rcodes, opcodes, EDNS options, anomalies.
 * IANA "Domain Name System (DNS) Parameters" (RFC 6895) and "DNS EDNS0
 * Option Codes"; RFC 6891 §9 (extended rcodes), RFC 8490 (DSO).
 */
#include "dns/dns.h"

#include <stddef.h>

const char *dns_type_name(uint16_t type)
{
	switch (type) {
	case 1: return "A";
	case 2: return "NS";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 12: return "PTR";
	case 13: return "HINFO";
	case 15: return "MX";
	case 16: return "TXT";
	case 17: return "RP";
	case 18: return "AFSDB";
	case 24: return "SIG";
	case 25: return "KEY";
	case 28: return "AAAA";
	case 29: return "LOC";
	case 33: return "SRV";
	case 35: return "NAPTR";
	case 36: return "KX";
	case 37: return "CERT";
	case 39: return "DNAME";
	case 41: return "OPT";
	case 42: return "APL";
	case 43: return "DS";
	case 44: return "SSHFP";
	case 45: return "IPSECKEY";
	case 46: return "RRSIG";
	case 47: return "NSEC";
	case 48: return "DNSKEY";
	case 49: return "DHCID";
	case 50: return "NSEC3";
	case 51: return "NSEC3PARAM";
	case 52: return "TLSA";
	case 53: return "SMIMEA";
	case 55: return "HIP";
	case 59: return "CDS";
	case 60: return "CDNSKEY";
	case 61: return "OPENPGPKEY";
	case 62: return "CSYNC";
	case 63: return "ZONEMD";
	case 64: return "SVCB";
	case 65: return "HTTPS";
	case 99: return "SPF";
	case 108: return "EUI48";
	case 109: return "EUI64";
	case 249: return "TKEY";
	case 250: return "TSIG";
	case 251: return "IXFR";
	case 252: return "AXFR";
	case 255: return "ANY";
	case 256: return "URI";
	case 257: return "CAA";
	case 32768: return "TA";
	case 32769: return "DLV";
	default: return NULL;
	}
}

/* 12-bit rcodes: header values, then the EDNS extended ones. 16 is BADVERS
 * here; in a TSIG RR it is BADSIG, which this parser does not report. */
const char *dns_rcode_name(uint16_t rcode)
{
	switch (rcode) {
	case 0: return "NOERROR";
	case 1: return "FORMERR";
	case 2: return "SERVFAIL";
	case 3: return "NXDOMAIN";
	case 4: return "NOTIMP";
	case 5: return "REFUSED";
	case 6: return "YXDOMAIN";
	case 7: return "YXRRSET";
	case 8: return "NXRRSET";
	case 9: return "NOTAUTH";
	case 10: return "NOTZONE";
	case 11: return "DSOTYPENI";
	case 16: return "BADVERS";
	case 17: return "BADKEY";
	case 18: return "BADTIME";
	case 19: return "BADMODE";
	case 20: return "BADNAME";
	case 21: return "BADALG";
	case 22: return "BADTRUNC";
	case 23: return "BADCOOKIE";
	default: return NULL;
	}
}

const char *dns_opcode_name(uint8_t opcode)
{
	switch (opcode) {
	case 0: return "QUERY";
	case 1: return "IQUERY";
	case 2: return "STATUS";
	case 4: return "NOTIFY";
	case 5: return "UPDATE";
	case 6: return "DSO";
	default: return NULL;
	}
}

const char *dns_opt_name(uint16_t code)
{
	switch (code) {
	case 1: return "LLQ";
	case 2: return "UPDATE-LEASE";
	case DNS_OPT_NSID: return "NSID";
	case 5: return "DAU";
	case 6: return "DHU";
	case 7: return "N3U";
	case DNS_OPT_ECS: return "ECS";
	case DNS_OPT_EXPIRE: return "EXPIRE";
	case DNS_OPT_COOKIE: return "COOKIE";
	case DNS_OPT_KEEPALIVE: return "KEEPALIVE";
	case DNS_OPT_PADDING: return "PADDING";
	case 13: return "CHAIN";
	case 14: return "KEY-TAG";
	case DNS_OPT_EDE: return "EDE";
	case 16: return "CLIENT-TAG";
	case 17: return "SERVER-TAG";
	case 18: return "REPORT-CHANNEL";
	case 19: return "ZONEVERSION";
	case 20292: return "UMBRELLA-IDENT";
	case 26946: return "DEVICEID";
	default: return NULL;
	}
}

/* Indexed by enum dns_anomaly; keep the same order. */
static const char *const names_anomaly[DNS_A_MAX] = {
	[DNS_A_NONE] = "dns_none",
	[DNS_A_HDR_TRUNC] = "dns_hdr_trunc",
	[DNS_A_QD_TRUNC] = "dns_qd_trunc",
	[DNS_A_RR_TRUNC] = "dns_rr_trunc",
	[DNS_A_NAME_LOOP] = "dns_name_loop",
	[DNS_A_LABEL_TOO_LONG] = "dns_label_too_long",
	[DNS_A_NAME_TOO_LONG] = "dns_name_too_long",
	[DNS_A_OPT_BAD] = "dns_opt_bad",
	[DNS_A_RDATA_BAD] = "dns_rdata_bad",
	[DNS_A_TRAILING] = "dns_trailing",
	[DNS_A_QDCOUNT] = "dns_qdcount",
};

const char *dns_anomaly_name(int a)
{
	if (a < 0 || a >= DNS_A_MAX || names_anomaly[a] == NULL)
		return "dns_unknown";
	return names_anomaly[a];
}
