package io.cardnet.lab.runtime;

import io.cardnet.link.port.EndpointAddress;

/**
 * The lab's addresses. Both subnets sit inside RFC 2544's benchmarking block (198.18.0.0/15) and exist
 * only on interfaces cardnet creates.
 *
 * <p>With several cards ({@code lab up --cards N}), card K's subnets are card 0's moved up by K of their own size
 * ({@link #forCard}): by default card K's link is 198.18.0.(4K)/30 (toeK .4K+1, its host0 .4K+2) and its wire
 * 198.19.K.0/24 (the peer's port .1, the card's eth0 .2). Card 0 keeps the lab's addresses of before exactly.
 * Every card has its own wire subnet today; an active/standby pair will give two cards one wire subnet and one
 * wire-side address (the identity the standby holds but does not answer for), each still with its own link.
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

    /**
     * Card {@code k}'s addresses: this lab's link and wire subnets, each moved up by {@code k} subnets of its own
     * size, the hosts numbered as on card 0. Card 0's are these.
     */
    public LabAddresses forCard(int k) {
        if (k == 0) {
            return this;
        }
        EndpointAddress link = shifted(hostLink, k);
        EndpointAddress wire = shifted(cardWire, k);
        requireBenchmarkBlock(link, "card " + k + "'s link");
        requireBenchmarkBlock(wire, "card " + k + "'s wire");
        return new LabAddresses(nth(link, 1), nth(link, 2), nth(wire, 2), nth(wire, 1));
    }

    /**
     * Refuses a plan whose {@code cards} cards' subnets overlap (e.g. a wire subnet right after the link subnet, which
     * card 1's link would take) or leave 198.18.0.0/15.
     */
    static void requireDisjoint(LabAddresses card0, int cards) {
        java.util.List<EndpointAddress> subnets = new java.util.ArrayList<>();
        for (int k = 0; k < cards; k++) {
            LabAddresses a;
            try {
                a = card0.forCard(k);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--cards " + cards + ": " + e.getMessage()
                        + "; pick lower --link-subnet/--wire-subnet or fewer cards");
            }
            subnets.add(nth(a.hostLink, 0));
            subnets.add(nth(a.cardWire, 0));
        }
        for (int i = 0; i < subnets.size(); i++) {
            for (int j = i + 1; j < subnets.size(); j++) {
                if (overlap(subnets.get(i), subnets.get(j))) {
                    throw new IllegalArgumentException("--cards " + cards + ": subnets " + subnets.get(i) + " and "
                            + subnets.get(j) + " overlap (card K's subnets are card 0's moved up by K of their size);"
                            + " give --link-subnet and --wire-subnet room apart, e.g. the defaults 198.18.0.0/30"
                            + " and 198.19.0.0/24");
                }
            }
        }
    }

    private static boolean overlap(EndpointAddress a, EndpointAddress b) {
        int prefix = Math.min(a.prefix(), b.prefix());
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        return (bits(a) & mask) == (bits(b) & mask);
    }

    private static int bits(EndpointAddress a) {
        byte[] b = a.address().getAddress();
        return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    }

    /** The subnet of {@code a}, moved up by {@code k} subnets of its size. */
    private static EndpointAddress shifted(EndpointAddress a, int k) {
        long size = 1L << (32 - a.prefix());
        long base = (bits(nth(a, 0)) & 0xffffffffL) + k * size;
        if (base > 0xffffffffL) {
            throw new IllegalArgumentException("card " + k + "'s subnet would leave the address space");
        }
        int v = (int) base;
        return EndpointAddress.parse((v >>> 24) + "." + ((v >>> 16) & 0xff) + "." + ((v >>> 8) & 0xff) + "." + (v & 0xff)
                + "/" + a.prefix());
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
