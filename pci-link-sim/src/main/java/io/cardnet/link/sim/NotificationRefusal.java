package io.cardnet.link.sim;

/**
 * Why the simulator refused (or clamped) a doorbell or an RX_DONE: what
 * {@code cardnet_bus_notifications_refused_total{direction,frame,reason}} can say. None of them happens with a
 * well-behaved end, except an RX_DONE of the old epoch racing a retrain.
 */
enum NotificationRefusal {
    /** a doorbell of another link epoch: ignored */
    DOORBELL_STALE_EPOCH("doorbell", "stale_epoch"),
    /** a doorbell for a tail beyond the last descriptor posted: taken as the last posted */
    DOORBELL_BEYOND_POSTED("doorbell", "beyond_posted"),
    /** a doorbell for a tail behind the last one: moves nothing, ignored before any work (a flood costs little) */
    DOORBELL_BEHIND("doorbell", "behind"),
    /** an RX_DONE of another link epoch: ignored */
    RX_DONE_STALE_EPOCH("rx_done", "stale_epoch"),
    /** an RX_DONE beyond the descriptors delivered (credits for nothing): taken as the last delivered */
    RX_DONE_BEYOND_DELIVERED("rx_done", "beyond_delivered"),
    /** an RX_DONE behind the last one: ignored */
    RX_DONE_BEHIND("rx_done", "behind");

    private final String frame;
    private final String reason;

    NotificationRefusal(String frame, String reason) {
        this.frame = frame;
        this.reason = reason;
    }

    String frame() {
        return frame;
    }

    String reason() {
        return reason;
    }
}
