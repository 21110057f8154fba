package io.cardnet.lab.runtime;

import io.cardnet.link.port.EndpointAddress;

/**
 * The lab's addresses. Both subnets sit inside RFC 2544's benchmarking block (198.18.0.0/15) and exist
 * only on interfaces cardnet creates.
 *
 * @param hostLink toe0's address (198.18.0.1/30)
 * @param cardLink host0's address, the card's side of the link (198.18.0.2/30)
 * @param cardWire the card's network port eth0 (198.19.0.2/24)
 * @param peerWire the wire peer (198.19.0.1/24)
 */
public record LabAddresses(EndpointAddress hostLink, EndpointAddress cardLink, EndpointAddress cardWire,
                           EndpointAddress peerWire) {

    public static final LabAddresses DEFAULT = of("198.18.0.0/30", "198.19.0.0/24");

    /** Host .1 and card .2 on the link subnet; peer .1 and card .2 on the wire subnet. */
    public static LabAddresses of(String linkSubnet, String wireSubnet) {
        EndpointAddress link = EndpointAddress.parse(linkSubnet);
        EndpointAddress wire = EndpointAddress.parse(wireSubnet);
        requireBenchmarkBlock(link, "link");
        requireBenchmarkBlock(wire, "wire");
        if (link.prefix() > 30 || wire.prefix() > 30) {
            throw new IllegalArgumentException("the link and wire subnets need room for two hosts (prefix /30 or shorter)");
        }
        return new LabAddresses(nth(link, 1), nth(link, 2), nth(wire, 2), nth(wire, 1));
    }

    private static void requireBenchmarkBlock(EndpointAddress subnet, String what) {
        byte[] a = subnet.address().getAddress();
        if ((a[0] & 0xff) != 198 || ((a[1] & 0xff) & 0xfe) != 18 || subnet.prefix() < 15) {
            throw new IllegalArgumentException("the " + what + " subnet " + subnet
                    + " must lie inside 198.18.0.0/15 (RFC 2544's benchmarking block), so the lab never"
                    + " collides with real networks");
        }
    }

    private static EndpointAddress nth(EndpointAddress subnet, int n) {
        byte[] a = subnet.address().getAddress();
        int v = ((a[0] & 0xff) << 24) | ((a[1] & 0xff) << 16) | ((a[2] & 0xff) << 8) | (a[3] & 0xff);
        int mask = subnet.prefix() == 0 ? 0 : -1 << (32 - subnet.prefix());
        int host = (v & mask) + n;
        String ip = (host >>> 24) + "." + ((host >>> 16) & 0xff) + "." + ((host >>> 8) & 0xff) + "." + (host & 0xff);
        return EndpointAddress.parse(ip + "/" + subnet.prefix());
    }

    /** The wire subnet in CIDR form, for the host's route through the card. */
    public String wireSubnet() {
        return network(cardWire);
    }

    public String linkSubnet() {
        return network(hostLink);
    }

    private static String network(EndpointAddress a) {
        return nth(a, 0).toString();
    }
}
