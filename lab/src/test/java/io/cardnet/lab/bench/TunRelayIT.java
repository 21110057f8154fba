package io.cardnet.lab.bench;

import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.card.services.TransferReport;
import io.cardnet.lab.tools.Sender;
import io.cardnet.lab.tools.Sink;
import io.cardnet.link.port.ChecksumMode;
import io.cardnet.netdev.NetNamespace;
import io.cardnet.netdev.testing.RootRequired;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bench's TUN relay, on real TUNs in real namespaces: TCP transfers cross it intact under both checks, with
 * the trusted checksum policy and offloads (the lab's default) and with --csum verify on a plain NIC, and closing it
 * leaves nothing behind. The rate is printed, never asserted.
 */
class TunRelayIT {
    private static final long SIZE = 64L << 20;
    private static final int PORT = 5201;

    @ParameterizedTest(name = "mtu {0}, checksums {1}, offload {2}")
    @CsvSource({"65535, unnecessary, true", "1500, verify, false"})
    void forwardsATcpTransferIntactUnderBothChecks(int mtu, String csum, boolean offload) throws Exception {
        RootRequired.check();
        try (TunRelay relay = TunRelay.start(mtu, ChecksumMode.parse(csum), offload)) {
            for (IntegrityCheck check : IntegrityCheck.values()) {
                long packets0 = relay.packets();
                InetSocketAddress to = new InetSocketAddress(TunRelay.ADDRESS_B, PORT);
                try (Sink sink = NetNamespace.call(TunRelay.B, () -> Sink.listen(to))) {
                    CompletableFuture<TransferReport> served = CompletableFuture.supplyAsync(() -> {
                        try {
                            return sink.acceptOne();
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                    Sender.Result sent = NetNamespace.call(TunRelay.A, () -> Sender.send(to, SIZE, check, n -> { }));
                    TransferReport received = served.get(2, TimeUnit.MINUTES);
                    System.out.printf("relay mtu %d %s offload %s: %d bytes at %.2f Gb/s, %s %s / sink %s, %d packets,"
                                    + " relay CPU %.2f s%n", mtu, csum, offload, sent.bytes(), sent.gbps(), check.id(),
                            sent.value(), received.value(), relay.packets() - packets0, relay.cpuSeconds());
                    assertEquals(SIZE, received.bytes());
                    assertEquals(check, received.check());
                    assertTrue(received.agrees(SIZE, check, sent.value()), received + " vs " + sent);
                    assertTrue(sent.match());
                    // the bytes went through the relay's thread, not around it
                    assertTrue(relay.packets() - packets0 > SIZE / 65536, "only " + relay.packets() + " packets relayed");
                }
            }
            assertEquals(0, relay.refused(), "a TUN refused packets");
        }
        assertFalse(Files.exists(Path.of("/run/netns", TunRelay.A)), TunRelay.A + " was left behind");
        assertFalse(Files.exists(Path.of("/run/netns", TunRelay.B)), TunRelay.B + " was left behind");
    }
}
