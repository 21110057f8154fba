package io.cardnet.lab.cli;

import io.cardnet.card.CardNodeConfig;
import io.cardnet.card.firmware.Firmware;
import io.cardnet.card.firmware.FirmwareLoader;
import io.cardnet.link.metrics.MetricsServer;
import io.cardnet.link.protocol.BusTransport;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Desc;
import io.cardnet.link.protocol.Doorbell;
import io.cardnet.link.protocol.FrameDecoder;
import io.cardnet.link.protocol.FrameEncoder;
import io.cardnet.link.protocol.Heartbeat;
import io.cardnet.link.protocol.Interrupt;
import io.cardnet.link.protocol.LinkDown;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Protocol;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.RxDone;
import io.cardnet.link.protocol.Train;
import io.netty.channel.embedded.EmbeddedChannel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The workload a card VM image's JDK AOT cache is trained on (images/vm/build.sh, JEP 483/515): what card-node
 * loads and links while it starts, done without a TUN, a bus or a VM, so it can run in a chroot of the image on
 * the machine that builds it. In a TCG guest a cold JVM spends tens of seconds on exactly this.
 */
@Command(name = "aot-train", hidden = true,
        description = "Exercise card-node's start-up classes once (for an AOT cache: java -XX:AOTCacheOutput=...).")
final class AotTraining implements Callable<Integer> {
    @Parameters(paramLabel = "FIRMWARE_DIR", description = "The firmware the image boots.")
    Path firmware;

    @Override
    public Integer call() throws Exception {
        // the ruleset is taken as given: `nft -c` here would talk to the building machine's kernel
        Firmware f = new FirmwareLoader(ruleset -> { }).read(firmware);
        Components.CardNodeCmd.class.getDeclaredConstructors();
        CardNodeConfig.class.getDeclaredMethods();
        var registry = MetricsServer.newRegistry("card-node");
        try (MetricsServer server = MetricsServer.start(registry, "127.0.0.1", 0);
             InputStream in = URI.create("http://127.0.0.1:" + server.port() + "/metrics").toURL().openStream()) {
            in.readAllBytes();
        }
        var group = BusTransport.newGroup(1, "aot");
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(), FrameEncoder.INSTANCE);
        for (Object frame : List.of(new Train(Protocol.VERSION, Role.ENDPOINT, Data.MAX_PACKET, 7),
                new LinkUp(Protocol.VERSION, Data.MAX_PACKET, 7, 1, 256), new LinkDown("training"), new Heartbeat(1),
                new Doorbell(1, 1), new Desc(1, 1, 120, 1), new Interrupt(1, 1), new RxDone(1, 1))) {
            ch.writeOutbound(frame);
            Object encoded;
            while ((encoded = ch.readOutbound()) != null) {
                ch.writeInbound(encoded);
            }
        }
        Object decoded;
        while ((decoded = ch.readInbound()) != null) {
            io.netty.util.ReferenceCountUtil.release(decoded);
        }
        ch.finishAndReleaseAll();
        for (String c : List.of("io.cardnet.card.CardNode", "io.cardnet.card.FirmwareBoot", "io.cardnet.card.CardCounters",
                "io.cardnet.card.services.SinkService", "io.cardnet.card.services.EchoService",
                "io.cardnet.link.port.TunEnd", "io.cardnet.link.port.TunPump", "io.cardnet.link.port.BusPort",
                "io.cardnet.link.port.VirtioPortBridge", "io.cardnet.link.port.ChecksumPolicy",
                "io.cardnet.link.dma.DmaRegion", "io.cardnet.netdev.Tun", "io.cardnet.netdev.NetInterface")) {
            Class.forName(c, true, AotTraining.class.getClassLoader());
        }
        System.out.println("cardnet: trained on card-node's start-up for firmware " + f.version());
        return 0;
    }
}
