package io.cardnet.card.firmware;

import io.cardnet.card.ipsec.EspProposal;

/**
 * firmware.yaml's {@code ipsec:}: the card protects what it forwards between the host's link and the wire with an
 * ESP tunnel to the wire peer (kernel xfrm). The firmware names the algorithm only: the keys are per lab, made
 * when the card boots and handed to card-node in a file ({@link io.cardnet.card.ipsec.TunnelKeys}), never shipped.
 *
 * @param esp  the ESP algorithm of both SAs
 * @param line firmware.yaml's line of the {@code ipsec:} key
 */
public record Ipsec(EspProposal esp, int line) {
    public Ipsec {
        java.util.Objects.requireNonNull(esp, "esp");
    }
}
