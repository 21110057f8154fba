package io.cardnet.lab.runtime;

import java.util.List;

/**
 * The compose lab with several cards: an override file for compose.yaml that adds cards 1..N-1, and the Prometheus
 * configuration that scrapes every card's processes with a {@code card} label (docs/architecture.md, "Several cards").
 * {@code cardnet lab up --runtime compose --cards N} writes both for any N; compose.cards2.yaml and
 * prometheus/prometheus.cards2.yml are these for two cards, for `docker compose -f compose.yaml -f compose.cards2.yaml`.
 *
 * <p>Card K is its own container {@code cardK} with its own link in the one pci-link container (the simulator's
 * {@code --extra-card}), its toeK in the host container ({@code hostK}, a host-bridge sharing the host container's
 * network namespace), and its own wire network {@code wireK} on which the wire container has a port.
 *
 * <p>Addresses: card K's link and wire are card 0's (198.18.0.0/30 and 198.18.1.0/24) moved up by K /23s, so card K's
 * link is 198.18.2K.0/30 (toeK .1, its host0 .2) and its wire 198.18.(2K+1).0/24 (the wire's port .1, its eth0 .2),
 * and the Docker network wireK is the /23 holding both. The netns plan (link 198.18.0.4K/30, wire 198.19.K.0/24) does
 * not fit Docker: an internal network drops every packet whose source or destination is outside its subnet, so a
 * card's wire network must hold its link's host address too, and card 0's wire network 198.18.0.0/23 already holds
 * every link of that plan (Docker refuses overlapping subnets). Card 0 keeps compose.yaml's addresses exactly.
 *
 * <p>/metrics: card K's simulator link on pci-link's address at 9470 + 10K, its host-bridge on the host container's
 * at 9471 + 10K (the netns plan's ports), its card-node on its own management address 198.19.200.(240+K), port 9472.
 */
public final class ComposeCards {
    /** The simulator's, host-bridge's and card-node's management addresses (compose.yaml's fixed ones). */
    static final String SIM_ADDRESS = "198.19.200.250";
    static final String HOST_ADDRESS = "198.19.200.252";
    static final String CARD0_ADDRESS = "198.19.200.251";

    private ComposeCards() {
    }

    /** Card {@code k}'s link and wire addresses in the compose lab (card 0: compose.yaml's). */
    public static LabAddresses addresses(int k) {
        requireCard(k);
        return LabAddresses.of("198.18." + 2 * k + ".0/30", "198.18." + (2 * k + 1) + ".0/24");
    }

    /** Card {@code k}'s wire network: the /23 holding its link and its wire. */
    public static String wireNetworkSubnet(int k) {
        return "198.18." + 2 * k + ".0/23";
    }

    /** Card {@code k}'s card-node address on the management network (above Docker's ip_range, .0-.127). */
    public static String cardMetricsAddress(int k) {
        return k == 0 ? CARD0_ADDRESS : "198.19.200." + (240 + k);
    }

    public static int simMetricsPort(int k) {
        return 9470 + 10 * k;
    }

    public static int hostBridgeMetricsPort(int k) {
        return 9471 + 10 * k;
    }

    public static final int CARD_METRICS_PORT = 9472;

    /** Card {@code k}'s compose services: card, host, wire network (card 0: compose.yaml's card, host and wire). */
    public static String cardService(int k) {
        return k == 0 ? "card" : "card" + k;
    }

    public static String hostService(int k) {
        return k == 0 ? "host" : "host" + k;
    }

    static String wireNetwork(int k) {
        return k == 0 ? "wire" : "wire" + k;
    }

    /** Where card {@code k}'s sockets are in the bus volume (card 0: at its top, as compose.yaml has them). */
    public static String busDir(int k) {
        return k == 0 ? "/run/cardnet" : "/run/cardnet/card" + k;
    }

    static String dmaDir(int k) {
        return k == 0 ? "/dma/lab" : "/dma/lab-card" + k;
    }

    private static void requireCard(int k) {
        if (k < 0 || k >= LabConfig.Cards.MAX) {
            throw new IllegalArgumentException("card " + k + " is outside 0.." + (LabConfig.Cards.MAX - 1));
        }
    }

    /**
     * The override file for {@code cards} cards (2..8); {@code prometheusConfig} is the path (relative to compose.yaml's
     * directory, or absolute) of {@link #prometheus}'s file for the same cards.
     */
    public static String override(int cards, String prometheusConfig) {
        if (cards < 2 || cards > LabConfig.Cards.MAX) {
            throw new IllegalArgumentException("an override adds cards 1..N-1 to compose.yaml's card 0: N must be 2.."
                    + LabConfig.Cards.MAX + ", was " + cards);
        }
        StringBuilder y = new StringBuilder();
        y.append("# compose.yaml with ").append(cards).append(" cards: card K is the container cardK with its own link in")
                .append(" the one pci-link\n")
                .append("# container, toeK in the host container (hostK shares its network namespace) and its own wire network.\n")
                .append("# Written by ComposeCards (`cardnet lab up --runtime compose --cards ").append(cards)
                .append("` writes the same); use it as\n")
                .append("#   docker compose -f compose.yaml -f THIS up -d --wait\n")
                .append("#   LINK_UPSTREAM=gen3x4 docker compose -f compose.yaml -f THIS up -d --wait   the cards behind one switch\n")
                .append("# Card K: link 198.18.2K.0/30 (toeK .1, host0 .2), wire 198.18.(2K+1).0/24 (wire's port .1, eth0 .2).\n")
                .append("services:\n");
        // the one simulator carries every card's link
        y.append("  pci-link:\n")
                .append("    entrypoint: [sh, -c]\n")
                .append("    command:\n")
                .append("      - exec cardnet sim --host-port unix:/run/cardnet/host.sock --card-port unix:/run/cardnet/card.sock\n")
                .append("        --control /run/cardnet/control.sock --metrics ").append(SIM_ADDRESS).append(':')
                .append(simMetricsPort(0)).append(" --dma /dma/lab --model \"$$LINK_MODEL\"\n");
        for (int k = 1; k < cards; k++) {
            String bus = busDir(k);
            y.append("        --extra-card host=unix:").append(bus).append("/host.sock,card=unix:").append(bus)
                    .append("/card.sock,control=").append(bus).append("/control.sock,dma=").append(dmaDir(k))
                    .append(",metrics=").append(SIM_ADDRESS).append(':').append(simMetricsPort(k)).append('\n');
        }
        y.append("        $${LINK_UPSTREAM:+--upstream \"$$LINK_UPSTREAM\"}\n")
                .append("    environment:\n")
                .append("      LINK_MODEL: ${LINK_MODEL:-unlimited}\n")
                .append("      LINK_UPSTREAM: ${LINK_UPSTREAM:-}\n");
        for (int k = 1; k < cards; k++) {
            card(y, k);
            host(y, k);
        }
        // the wire peer: a port on every card's wire network, and a route back to each card's link through it
        y.append("  wire:\n")
                .append("    command:\n")
                .append("      - ");
        for (int k = 0; k < cards; k++) {
            LabAddresses a = addresses(k);
            y.append("ip route add ").append(a.linkSubnet()).append(" via ").append(a.cardWire().ip()).append(" && ");
        }
        y.append("exec cardnet tool sink --listen 0.0.0.0:5001\n")
                .append("    networks:\n");
        for (int k = 1; k < cards; k++) {
            y.append("      ").append(wireNetwork(k)).append(": {ipv4_address: ").append(addresses(k).peerWire().ip())
                    .append("}\n");
        }
        y.append("  prometheus:\n")
                .append("    volumes: [").append(prometheusConfig).append(":/etc/prometheus/prometheus.yml:ro]\n")
                .append("\nnetworks:\n");
        for (int k = 1; k < cards; k++) {
            y.append("  ").append(wireNetwork(k)).append(":\n")
                    .append("    internal: true\n")
                    .append("    ipam:\n")
                    .append("      config: [{subnet: ").append(wireNetworkSubnet(k)).append(", gateway: 198.18.")
                    .append(2 * k + 1).append(".254}]\n");
        }
        return y.toString();
    }

    private static void card(StringBuilder y, int k) {
        LabAddresses a = addresses(k);
        String bus = busDir(k);
        y.append("\n  ").append(cardService(k)).append(":\n")
                .append("    image: ${CARD_FIRMWARE:-cardnet/card-firmware:1.0.0}\n")
                .append("    entrypoint: [sh, -c]\n")
                .append("    command:\n")
                .append("      - exec cardnet card-node --firmware \"$$CARD_FIRMWARE_DIR\" --bus unix:").append(bus)
                .append("/card.sock --dma ").append(dmaDir(k)).append("\n")
                .append("        --device host0 --address ").append(a.cardLink()).append(" --metrics-port ")
                .append(CARD_METRICS_PORT).append(" --metrics-address ").append(cardMetricsAddress(k)).append('\n')
                .append("        --console-dir /console/").append(cardService(k))
                .append(" --console-authorized-keys /console/id_ed25519.pub\n")
                .append("        $${CARD_RELAY:+--relay \"$$CARD_RELAY\"}\n")
                .append("    environment:\n")
                .append("      CARD_RELAY: ${CARD_RELAY:-}\n")
                .append("    volumes: [bus:/run/cardnet, dma:/dma, console:/console]\n")
                .append("    devices: [/dev/net/tun]\n")
                .append("    cap_drop: [ALL]\n")
                .append("    cap_add: [NET_ADMIN]\n")
                .append("    sysctls:\n")
                .append("      net.ipv4.ip_forward: 1\n")
                .append("      net.ipv4.conf.all.rp_filter: 0\n")
                .append("      net.ipv4.conf.default.rp_filter: 0\n")
                .append("      net.ipv4.tcp_wmem: \"4096 16384 33554432\"\n")
                .append("      net.ipv4.tcp_rmem: \"4096 131072 33554432\"\n")
                .append("    networks:\n")
                .append("      ").append(wireNetwork(k)).append(": {ipv4_address: ").append(a.cardWire().ip())
                .append(", priority: 100}\n")
                .append("      mgmt: {ipv4_address: ").append(cardMetricsAddress(k)).append("}\n")
                .append("    depends_on:\n")
                .append("      pci-link: {condition: service_healthy}\n")
                .append("      keys: {condition: service_completed_successfully}\n")
                .append("    healthcheck:\n")
                .append("      test: [CMD-SHELL, \"ip link show host0 | grep -q LOWER_UP\"]\n")
                .append("      interval: 1s\n")
                .append("      retries: 60\n");
    }

    private static void host(StringBuilder y, int k) {
        LabAddresses a = addresses(k);
        String bus = busDir(k);
        String toe = LabNames.hostDevice(k);
        y.append("\n  ").append(hostService(k)).append(":\n")
                .append("    image: cardnet/host-bridge:latest\n")
                .append("    # ").append(toe).append(" in the host container: its network namespace, this card's end of the bus\n")
                .append("    network_mode: service:host\n")
                .append("    command: [host-bridge, --bus, unix:").append(bus).append("/host.sock, --dma, ").append(dmaDir(k))
                .append(", --device, ").append(toe).append(",\n")
                .append("              --address, ").append(a.hostLink()).append(", --route, \"").append(a.wireSubnet())
                .append('=').append(a.cardLink().ip()).append("\", --metrics, \"").append(HOST_ADDRESS).append(':')
                .append(hostBridgeMetricsPort(k)).append("\"]\n")
                .append("    volumes: [bus:/run/cardnet, dma:/dma]\n")
                .append("    devices: [/dev/net/tun]\n")
                .append("    cap_drop: [ALL]\n")
                .append("    cap_add: [NET_ADMIN]\n")
                .append("    depends_on:\n")
                .append("      pci-link: {condition: service_healthy}\n")
                .append("      host: {condition: service_started}\n")
                .append("    healthcheck:\n")
                .append("      test: [CMD-SHELL, \"ip link show ").append(toe).append(" | grep -q LOWER_UP\"]\n")
                .append("      interval: 1s\n")
                .append("      retries: 60\n");
    }

    /**
     * The Prometheus configuration for {@code cards} cards: each process of card K scraped with {@code card="K"}
     * (prometheus/prometheus.yml is this for one card).
     */
    public static String prometheus(int cards) {
        if (cards < 1 || cards > LabConfig.Cards.MAX) {
            throw new IllegalArgumentException("--cards must be 1.." + LabConfig.Cards.MAX + ", was " + cards);
        }
        StringBuilder y = new StringBuilder();
        y.append("# The compose lab's scrape targets: every cardnet process serves /metrics, each labelled with its card")
                .append(cards == 1 ? ".\n" : " (" + cards + " cards).\n")
                .append("# Written by ComposeCards; the dashboards' `card` variable picks cards by this label.\n")
                .append("global:\n")
                .append("  scrape_interval: 2s\n")
                .append("  evaluation_interval: 2s\n")
                .append("scrape_configs:\n");
        job(y, "pci-link-sim", "bus", cards, k -> "pci-link:" + simMetricsPort(k));
        job(y, "host-bridge", "host", cards, k -> "host:" + hostBridgeMetricsPort(k));
        job(y, "card-node", "card", cards, k -> cardService(k) + ":" + CARD_METRICS_PORT);
        return y.toString();
    }

    private static void job(StringBuilder y, String job, String component, int cards,
                            java.util.function.IntFunction<String> target) {
        y.append("  - job_name: ").append(job).append('\n')
                .append("    static_configs:\n");
        for (int k = 0; k < cards; k++) {
            y.append("      - {targets: [\"").append(target.apply(k)).append("\"], labels: {component: ").append(component)
                    .append(", card: \"").append(k).append("\"}}\n");
        }
    }

    /** The services of a lab of {@code cards} cards whose health {@code up --wait} waits for. */
    public static List<String> healthGated(int cards) {
        List<String> s = new java.util.ArrayList<>();
        for (int k = 0; k < cards; k++) {
            s.add(cardService(k));
            s.add(hostService(k));
        }
        return s;
    }
}
