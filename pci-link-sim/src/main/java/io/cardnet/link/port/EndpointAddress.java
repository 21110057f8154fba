package io.cardnet.link.port;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 interface address with its prefix, written {@code 198.18.0.1/30}. */
public record EndpointAddress(Inet4Address address, int prefix) {
    public EndpointAddress {
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("prefix length must be 0..32, was " + prefix);
        }
    }

    public static EndpointAddress parse(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + cidr + "' needs a prefix length, e.g. 198.18.0.1/30");
        }
        try {
            InetAddress a = InetAddress.getByName(cidr.substring(0, slash));
            if (!(a instanceof Inet4Address v4) || !cidr.substring(0, slash).matches("[0-9.]+")) {
                throw new IllegalArgumentException("'" + cidr + "' is not an IPv4 address");
            }
            return new EndpointAddress(v4, Integer.parseInt(cidr.substring(slash + 1)));
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("'" + cidr + "' is not an IPv4 address with a prefix, e.g. 198.18.0.1/30");
        }
    }

    public String ip() {
        return address.getHostAddress();
    }

    @Override
    public String toString() {
        return ip() + "/" + prefix;
    }
}
