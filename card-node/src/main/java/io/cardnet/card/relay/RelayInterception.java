package io.cardnet.card.relay;

import io.cardnet.netdev.Subprocess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.time.Duration;

/**
 * What makes the card's kernel hand host connections to the relay, in the card's namespace: an nftables table of
 * its own ({@value #TABLE}, so the firmware's ruleset is untouched) with a {@code tproxy} rule, and the policy route
 * tproxy needs ({@code ip rule fwmark → a table whose only route is "local 0.0.0.0/0 dev lo"}). The original
 * destination stays in the packet, so the relay knows it without NAT.
 *
 * <p>Two rules: TCP from host0 toward any address that is not the card's own goes to the listener (the card's own
 * services, sink, echo and metrics, are still reached directly), but only in a connection's original direction, so
 * only connections the host opens: the host's answers in a connection the wire opened (its SYN-ACK, its data) are
 * replies to conntrack and are routed as before; and packets of the relay's own transparent sockets
 * (the accepted host connections and the onward ones, which use the host's address) are marked too, so a reply
 * from the wire to the host's address is delivered to the relay instead of being forwarded to host0.
 */
final class RelayInterception implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RelayInterception.class);
    static final String TABLE = "cardnet_relay";
    /** nft and ip answer in milliseconds; one that does not within this is stuck, and the relay says so. */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final RelayConfig config;

    private RelayInterception(RelayConfig config) {
        this.config = config;
    }

    static RelayInterception install(RelayConfig c) throws IOException {
        RelayInterception i = new RelayInterception(c);
        i.removeQuietly(); // a crashed card-node's leftovers, in a namespace that outlived it
        String mark = "0x" + Integer.toHexString(c.mark());
        String ruleset = "table inet " + TABLE + " {\n"
                + "  chain prerouting {\n"
                + "    type filter hook prerouting priority mangle; policy accept;\n"
                + "    meta l4proto tcp socket transparent 1 meta mark set " + mark
                + " accept comment \"the relay's own connections\"\n"
                + "    iifname \"" + c.hostDevice() + "\" meta nfproto ipv4 meta l4proto tcp ct direction original"
                + " fib daddr type != local counter tproxy ip to :" + c.port() + " meta mark set " + mark
                + " accept comment \"host connections toward the wire\"\n"
                + "  }\n"
                + "}\n";
        try {
            run(List.of("nft", "-f"), ruleset);
            run(List.of("ip", "rule", "add", "fwmark", mark, "lookup", Integer.toString(c.table())), null);
            run(List.of("ip", "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", Integer.toString(c.table())), null);
        } catch (IOException e) {
            i.removeQuietly();
            throw new IOException("relay: cannot install its interception (" + e.getMessage() + "); the card's kernel"
                    + " needs nftables' tproxy and socket expressions", e);
        }
        log.info("relay: TCP from {} toward non-local addresses goes to :{} (nft table inet {}, fwmark {} → table {})",
                c.hostDevice(), c.port(), TABLE, mark, c.table());
        return i;
    }

    private void removeQuietly() {
        String mark = "0x" + Integer.toHexString(config.mark());
        for (List<String> cmd : List.of(List.of("nft", "delete", "table", "inet", TABLE),
                List.of("ip", "rule", "del", "fwmark", mark, "lookup", Integer.toString(config.table())),
                List.of("ip", "route", "flush", "table", Integer.toString(config.table())))) {
            try {
                run(cmd, null);
            } catch (IOException e) {
                // absent already: nothing to undo
            }
        }
    }

    /** Runs {@code cmd} with a deadline; {@code ruleset}, if any, goes to nft through a file given as {@code -f}. */
    private static void run(List<String> cmd, String ruleset) throws IOException {
        java.nio.file.Path file = null;
        try {
            List<String> command = cmd;
            if (ruleset != null) {
                file = java.nio.file.Files.createTempFile("cardnet-relay-", ".nft");
                java.nio.file.Files.writeString(file, ruleset, StandardCharsets.UTF_8);
                command = List.of("nft", "-f", file.toString());
            }
            Subprocess.run(command, TIMEOUT).orThrow();
        } finally {
            if (file != null) {
                java.nio.file.Files.deleteIfExists(file);
            }
        }
    }

    @Override
    public void close() {
        removeQuietly();
    }
}
