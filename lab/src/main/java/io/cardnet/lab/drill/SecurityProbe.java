package io.cardnet.lab.drill;

import io.cardnet.netdev.NetNamespace;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The hole 1.0.1 fixes: can the wire peer open a TCP connection to the host's toe0 address through the card?
 * The probe listens on the host side and connects from the wire. It passes when the connection is refused by
 * the card (times out), and fails when it gets through.
 */
final class SecurityProbe {
    static final int PORT = 5190;

    private SecurityProbe() {
    }

    static DrillReport.ProbeResult run(DrillTarget lab) throws Exception {
        InetSocketAddress target = new InetSocketAddress(lab.hostAddress(), PORT);
        try (ServerSocketChannel listener = lab.onHostSide(() -> ServerSocketChannel.open().bind(target))) {
            String outcome = NetNamespace.call(lab.wireNamespace(), () -> {
                try (java.net.Socket s = new java.net.Socket()) {
                    s.connect(target, 1500);
                    return "connected";
                } catch (java.net.SocketTimeoutException e) {
                    return "timed out";
                } catch (IOException e) {
                    return e.getMessage();
                }
            });
            boolean reached = outcome.equals("connected");
            if (reached) {
                try (SocketChannel accepted = listener.accept()) {
                    // accepted and dropped: the probe only asks whether it could
                }
            }
            return new DrillReport.ProbeResult("wire peer → " + target.getHostString() + ":" + PORT + " (host's toe0)",
                    !reached, reached ? "the wire reached the host through the card" : "blocked (" + outcome + ")");
        }
    }
}
