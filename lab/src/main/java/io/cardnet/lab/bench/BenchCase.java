package io.cardnet.lab.bench;

import io.cardnet.link.port.ChecksumMode;

/** One configuration of the sendfile matrix. */
public record BenchCase(int mtu, boolean offload, ChecksumMode csum, String link, String direction) {

    /** A short label for tables and the chart: "65535 on unnecessary unlimited h2c". */
    public String label() {
        return mtu + " " + (offload ? "offload" : "no-offload") + " " + csum.name().toLowerCase() + " " + link + " " + direction;
    }

    public boolean hostToCard() {
        return direction.equals("h2c");
    }
}
