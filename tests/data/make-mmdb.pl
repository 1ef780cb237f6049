#!/usr/bin/perl
# make-mmdb.pl — builds the small MaxMind databases the enrich unit test reads.
#
#   perl tests/data/make-mmdb.pl OUTDIR
#
# writes OUTDIR/city.mmdb and OUTDIR/asn.mmdb (IPv6 trees holding IPv4 and
# IPv6 networks) and OUTDIR/country4.mmdb (an IPv4-only tree).
#
# Uses MaxMind::DB::Writer (Debian package libmaxmind-db-writer-perl), the
# writer MaxMind publishes for the MaxMind DB format 2.0. The networks are
# documentation ranges (RFC 5737, RFC 3849) and documentation AS numbers
# (RFC 5398), so nothing here claims to locate a real address; the reserved
# network filter is turned off to let them in. The record layout follows
# GeoIP2-City and GeoLite2-ASN: country.iso_code, country.names.en,
# registered_country.*, city.names.en; autonomous_system_number (uint32),
# autonomous_system_organization. tests/unit/test_enrich_geo.c asserts on
# exactly these values: change both together.
use strict;
use warnings;
use utf8;
use MaxMind::DB::Writer::Tree;

my $out = shift @ARGV or die "usage: $0 OUTDIR\n";

my %types = (
	city                           => 'map',
	country                        => 'map',
	registered_country             => 'map',
	names                          => 'map',
	en                             => 'utf8_string',
	de                             => 'utf8_string',
	iso_code                       => 'utf8_string',
	geoname_id                     => 'uint32',
	autonomous_system_number       => 'uint32',
	autonomous_system_organization => 'utf8_string',
);

sub tree {
	my ($type, $ipv) = @_;
	return MaxMind::DB::Writer::Tree->new(
		ip_version               => $ipv // 6,
		record_size              => 28,
		database_type            => $type,
		languages                => ['en'],
		description              => { en => "stubwatch unit test $type" },
		map_key_type_callback    => sub { $types{ $_[0] } },
		remove_reserved_networks => 0,
	);
}

sub write_db {
	my ($tree, $file) = @_;
	open my $fh, '>:raw', $file or die "$file: $!\n";
	$tree->write_tree($fh);
	close $fh or die "$file: $!\n";
}

my $city = tree('Stubwatch-Test-City');
$city->insert_network('192.0.2.0/24', {
	country => { iso_code => 'DE', geoname_id => 2921044,
		     names => { en => 'Germany', de => 'Deutschland' } },
	city    => { geoname_id => 2950159, names => { en => 'Berlin' } },
});
$city->insert_network('2001:db8:1::/48', {
	country => { iso_code => 'CH', names => { en => 'Switzerland' } },
	city    => { names => { en => 'Zürich' } },
});
# Country of registration only, as GeoLite2 has for some anycast ranges.
$city->insert_network('198.51.100.0/24', {
	registered_country => { iso_code => 'US', names => { en => 'United States' } },
});
write_db($city, "$out/city.mmdb");

my $asn = tree('Stubwatch-Test-ASN');
$asn->insert_network('192.0.2.0/24', {
	autonomous_system_number       => 64496,
	autonomous_system_organization => 'Example Resolvers, "Inc."',
});
$asn->insert_network('2001:db8:1::/48', {
	autonomous_system_number       => 64497,
	autonomous_system_organization => 'Zürich Netz AG',
});
# In the ASN database only.
$asn->insert_network('203.0.113.0/24', {
	autonomous_system_number       => 64511,
});
write_db($asn, "$out/asn.mmdb");

# An IPv4-only Country database: IPv6 lookups in it must find nothing.
my $c4 = tree('Stubwatch-Test-Country', 4);
$c4->insert_network('192.0.2.0/24', {
	country => { iso_code => 'FR', names => { en => 'France' } },
});
write_db($c4, "$out/country4.mmdb");
