package io.cardnet.lab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.link.model.LinkProfile;
import io.cardnet.link.model.TlpModel;

/**
 * What the link model predicts for the traffic the bus actually carried between two `status` snapshots:
 * the average packet size and the notification TLPs per descriptor come from the counters, the rate from
 * {@link TlpModel}. Goodput is TCP payload: each packet also carries 20 bytes of IP and 32 of TCP.
 *
 * @param predictedGbps TCP goodput the model allows, Gb/s; infinite for the unlimited link
 * @param packetBytes   average IP packet size in the window
 * @param framesPerNotification descriptors per doorbell or interrupt TLP on the same wire
 * @param wireBusySeconds modelled time the wire was busy in the window (0 unless paced)
 */
public record LinkPrediction(double predictedGbps, int packetBytes, double framesPerNotification, double wireBusySeconds) {
    private static final int TCP_IP_HEADERS = 52;

    /**
     * For traffic in direction {@code data} ("h2c" or "c2h") on {@code model} between the two snapshots of
     * `cardnet lab status` link JSON.
     */
    public static LinkPrediction forDirection(String model, String data, JsonNode before, JsonNode after) {
        String back = data.equals("h2c") ? "c2h" : "h2c";
        long frames = delta(before, after, "traffic", data, "frames");
        long bytes = delta(before, after, "traffic", data, "bytes");
        // Small TLPs that share the data's wire: the sender's doorbells, receive interrupts to the receiver, and
        // completion interrupts to the receiver for its own (ACK) descriptors, which travel the other way.
        long notifications = delta(before, after, "counters", "doorbell/" + data, null)
                + delta(before, after, "counters", "interrupt/" + data + "/receive", null)
                + delta(before, after, "counters", "interrupt/" + back + "/completion", null);
        double busy = delta(before, after, "counters", "wirebusy/" + data, null) / 1e9;
        int packet = frames == 0 ? 0 : (int) (bytes / frames);
        double perNotification = notifications == 0 ? frames : (double) frames / notifications;
        TlpModel tlp = new TlpModel(LinkProfile.parse(model));
        if (packet <= TCP_IP_HEADERS) {
            return new LinkPrediction(Double.NaN, packet, perNotification, busy);
        }
        double packets = tlp.packetBytesPerSecond(packet, perNotification) * 8 / 1e9;
        return new LinkPrediction(packets * (packet - TCP_IP_HEADERS) / packet, packet, perNotification, busy);
    }

    static long delta(JsonNode before, JsonNode after, String section, String key, String field) {
        JsonNode b = before.path(section).path(key);
        JsonNode a = after.path(section).path(key);
        return field == null ? a.asLong(0) - b.asLong(0) : a.path(field).asLong(0) - b.path(field).asLong(0);
    }
}
