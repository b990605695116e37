package dev.tether.mqtt;

/**
 * Whether the retained messages matching a filter are sent when a subscriber subscribes (MQTT 5 Retain
 * Handling, §3.8.3.1). Tether applies it per subscriber: each subscriber of a filter sees the retained
 * messages as if it had subscribed alone, and never twice.
 */
public enum RetainHandling {
    /** Send the retained messages to this subscriber when it subscribes, and again after a reconnect that had to subscribe anew. */
    SEND(0),
    /** Send the retained messages to this subscriber once, when it subscribes; not again after a reconnect. */
    SEND_IF_NEW(1),
    /** Never send retained messages to this subscriber on subscribe. */
    DO_NOT_SEND(2);

    private final int value;

    RetainHandling(int value) {
        this.value = value;
    }

    /** @return the value of the option on the wire (0, 1 or 2) */
    public int value() {
        return value;
    }
}
