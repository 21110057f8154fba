package io.cardnet.lab.cli;

import io.cardnet.card.ipsec.EspGateway;
import io.cardnet.card.ipsec.TunnelKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** The wire peer's end of a card's ESP tunnel; the lab runs it in the wire's namespace while the card's firmware has one. */
@Command(name = "esp-peer", mixinStandardHelpOptions = true,
        description = {"Run the wire peer's end of the card's ESP tunnel in this network namespace: esp0 carries the"
                + " traffic to and from the host's link (198.18.0.0/30), sealed into ESP in UDP port 4500 toward the card.",
                "`cardnet lab up` and `cardnet drill` start it in cardnet-NAME-wire when the card boots a firmware with"
                        + " ipsec: (images/card-firmware/1.2.0), with the keys they made for that boot, and stop it when"
                        + " the card boots one without."})
final class EspPeerCmd implements Callable<Integer> {
    @Option(names = "--keys", required = true, paramLabel = "FILE",
            description = "The tunnel's keys, as the lab wrote them for this boot of the card (RUN_DIR/ipsec.keys).")
    Path keys;

    @Override
    public Integer call() throws Exception {
        EspGateway peer = EspGateway.start(TunnelKeys.read(keys), EspGateway.End.PEER, new SimpleMeterRegistry(),
                "cardnet.wire.ipsec");
        System.out.println("cardnet: esp-peer ready");
        System.out.flush();
        return Components.runUntilStopped("esp-peer", peer);
    }
}
