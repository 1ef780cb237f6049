/* pcapfloor.c — the benchmark's floor: reads a capture with libpcap and
 * touches every byte of each frame's first 64, doing nothing else.
 *
 * stubwatch's throughput is reported as a ratio to this program's on the
 * same file in the same run, which cancels most of a noisy machine's drift.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <time.h>

struct floor_state {
	uint64_t packets;
	uint64_t sum;
};

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct floor_state *st = (struct floor_state *)(void *)user;
	uint32_t n = h->caplen < 64 ? h->caplen : 64;
	/* A checksum of the headers keeps the read from being optimised away. */
	for (uint32_t i = 0; i < n; i++)
		st->sum += bytes[i];
	st->packets++;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pcapfloor FILE\n");
		return 2;
	}
	char err[PCAP_ERRBUF_SIZE];
	/* The same stream set-up as stubwatch's file capture (a 1 MiB buffer,
	 * no stdio locking), so the floor stays the cheapest way libpcap
	 * reads the file. */
	FILE *f = fopen(argv[1], "rb");
	if (f == NULL) {
		perror(argv[1]);
		return 1;
	}
	(void)setvbuf(f, NULL, _IOFBF, 1u << 20);
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	pcap_t *p = pcap_fopen_offline(f, err);
	if (p == NULL) {
		fprintf(stderr, "pcapfloor: %s\n", err);
		fclose(f);
		return 1;
	}
	struct floor_state st = { 0, 0 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pcap_loop(p, -1, on_frame, (u_char *)&st) == -1) {
		fprintf(stderr, "pcapfloor: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pcap_close(p);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("packets=%llu seconds=%.6f checksum=%llu\n", (unsigned long long)st.packets,
	       secs, (unsigned long long)st.sum);
	return 0;
}
