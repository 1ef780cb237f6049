/* guide.c — the scorecard lines in words (see guide.h). The references are
 * those of rules/detections.json for the rules behind each line. */
#include "web/guide.h"

#include <stdio.h>
#include <string.h>

static const struct guide_line lines[GUIDE_LINES] = {
	{ "RFC 2132 §3.8; RFC 8106; RFC 9463; draft-ietf-iotops-iot-dns-guidelines-04",
	  "Send DNS to the resolvers the network assigns (DHCP, DHCPv6, router "
	  "advertisements, DNR), so the network's policy and monitoring apply.",
	  "{hardcoded_resolvers} resolver(s) outside the assigned set received queries, "
	  "{fallback_only_resolvers} only while the assigned one failed ({queries} queries; "
	  "assigned set from {designated_from}).",
	  "Use the resolvers DHCP and router advertisements hand out. Keep a built-in "
	  "resolver, if at all, as a fallback used only while the assigned one does not answer." },
	{ "RFC 7858; RFC 8484; RFC 9250; RFC 9462; RFC 9463; draft-ietf-iotops-iot-dns-guidelines-04",
	  "Protect queries with encrypted DNS (DoT, DoH or DoQ) to a resolver the network "
	  "designates.",
	  "{queries_in_window} queries in the window; encrypted flows: {dot_flows} DoT, "
	  "{doh_flows} DoH, {doq_flows} DoQ, {unsanctioned_flows} of them to endpoints the "
	  "network did not sanction; the network offers encrypted DNS: "
	  "{network_offers_encrypted}.",
	  "Discover the network's encrypted resolver (DNR, RFC 9463; DDR, RFC 9462) and "
	  "speak DoT, DoH or DoQ to it; do not send encrypted DNS to a resolver of your own "
	  "choosing that the network did not designate." },
	{ "RFC 5452 §9.2; RFC 6056",
	  "Choose every query's UDP source port at random, so an off-path attacker cannot "
	  "guess it.",
	  "Source ports of {n} queries spread with σ = {sigma} (class {class}); a uniformly "
	  "random 16-bit port gives about 18,900.",
	  "Open a fresh socket with a random ephemeral port (RFC 6056) for each query, or "
	  "let the operating system choose one; never send every query from one fixed port." },
	{ "RFC 5452 §9.2; RFC 1035 §4.1.1",
	  "Choose every transaction ID at random.",
	  "Transaction IDs of {n} queries spread with σ = {sigma} (class {class}).",
	  "Draw each 16-bit ID from a cryptographically strong random source; never a "
	  "counter or a constant." },
	{ "RFC 6891; RFC 9715; RFC 6891 §6.2.5",
	  "Send EDNS(0) with a UDP payload size that avoids IP fragmentation.",
	  "{queries_with_opt} of {queries} queries carried an OPT record; "
	  "{sizes_out_of_range} advertised a size outside 512-1400 bytes.",
	  "Add an OPT record to every query and advertise 1232 bytes, a size that does not "
	  "fragment on common paths." },
	{ "RFC 7766 §5; RFC 7766 §6; RFC 1035 §4.2.1",
	  "Retry over TCP when an answer comes back truncated (TC=1).",
	  "{retried_over_tcp} of {truncated_answers} truncated answers were retried over "
	  "TCP; {not_retried} were not.",
	  "Implement DNS over TCP (mandatory for every resolver, RFC 7766) and retry over it "
	  "whenever TC=1 is set." },
	{ "RFC 1035 §3.2.1; RFC 2181 §8; RFC 8767 §4",
	  "Cache answers for their TTL: neither ask again long before it runs out nor keep "
	  "using an address after it has.",
	  "{early_requeries} of {repeat_queries} repeated queries came before half the TTL; "
	  "{stale_uses} of {connections_checked} new connections went to addresses whose "
	  "answer had expired.",
	  "Keep a cache that honours each record's TTL, and resolve again before connecting "
	  "once it has expired." },
	{ "RFC 2308 §5; RFC 9520; RFC 8767",
	  "Back off when resolution fails and cache negative answers.",
	  "{storms} of {failure_episodes} failure episodes became retry storms; "
	  "{negative_repeats} negative answers were asked again before their SOA minimum.",
	  "Retry with exponential back-off when the resolver fails, and cache NXDOMAIN and "
	  "NODATA for the SOA minimum (RFC 2308, RFC 9520)." },
	{ "RFC 3596; RFC 8305; RFC 8106; RFC 3646",
	  "On an IPv6 network, ask for AAAA records and use the IPv6 resolvers offered.",
	  "IPv6-capable: {ipv6_capable}; IPv6 resolvers offered: {ipv6_resolvers_offered}; "
	  "{aaaa_queries} AAAA queries, {queries_over_ipv6} queries over IPv6.",
	  "Ask AAAA alongside A (Happy Eyeballs, RFC 8305) and use the resolvers of RDNSS "
	  "(RFC 8106) and DHCPv6 (RFC 3646)." },
	{ "RFC 4033; RFC 4035; RFC 3225; RFC 6840 §5.7-5.9; RFC 9364",
	  "Be DNSSEC-aware: ask with the DO bit and validate, or check AD from a trusted "
	  "resolver.",
	  "{queries_with_do} of {queries} queries set DO; AD, CD or DNSSEC record types "
	  "seen: {ad_cd_or_dnssec_types}.",
	  "Set DO on queries (RFC 3225) and validate answers, or at least honour AD from a "
	  "resolver reached over a secure channel (RFC 6840)." },
	{ "RFC 8520; draft-ietf-iotops-iot-dns-guidelines-04",
	  "Stay within the management domains a MUD profile declares.",
	  "Not judged yet: the sensor does not read MUD profiles.",
	  "Publish a MUD file (RFC 8520) naming the domains the device needs and announce "
	  "its URL in DHCP option 161." },
};

const struct guide_line *guide_line(long n)
{
	return n >= 1 && n <= GUIDE_LINES ? &lines[n - 1] : NULL;
}

/* One evidence value as text. */
static void put_value(const json_t *v, char *out, size_t outlen)
{
	if (json_is_integer(v))
		snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, outlen, "%.6g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(out, outlen, "%s", json_is_true(v) ? "yes" : "no");
	else if (json_is_string(v))
		snprintf(out, outlen, "%s", json_string_value(v));
	else
		snprintf(out, outlen, "?");
}

void guide_explain(long n, const json_t *evidence, char *out, size_t outlen)
{
	const struct guide_line *g = guide_line(n);
	size_t o = 0;
	out[0] = '\0';
	if (g == NULL || outlen == 0)
		return;
	for (const char *p = g->evidence; *p != '\0' && o + 1 < outlen; p++) {
		const char *end = *p == '{' ? strchr(p, '}') : NULL;
		if (end == NULL || end - p > 64) {
			out[o++] = *p;
			continue;
		}
		char key[64], val[128];
		memcpy(key, p + 1, (size_t)(end - p - 1));
		key[end - p - 1] = '\0';
		put_value(json_object_get(evidence, key), val, sizeof(val));
		int w = snprintf(out + o, outlen - o, "%s", val);
		o += w > 0 && (size_t)w < outlen - o ? (size_t)w : outlen - o - 1;
		p = end;
	}
	out[o] = '\0';
}

json_t *guide_json(void)
{
	json_t *a = json_array();
	for (long i = 0; i < GUIDE_LINES; i++)
		json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:s,s:s}", "line", (json_int_t)i + 1,
						   "reference", lines[i].reference, "requirement",
						   lines[i].requirement, "evidence", lines[i].evidence,
						   "advice", lines[i].advice));
	return a;
}
