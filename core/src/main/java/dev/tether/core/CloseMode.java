package dev.tether.core;

/**
 * How the application asked a connection to close.
 */
public enum CloseMode {
    /** The protocol's orderly goodbye (MQTT DISCONNECT, WebSocket close handshake), bounded in time. */
    GRACEFUL,
    /**
     * An orderly goodbye that still asks the peer to publish the last will (MQTT 5 DISCONNECT 0x04).
     * Protocols without a will treat it as {@link #GRACEFUL}.
     */
    GRACEFUL_WITH_WILL,
    /** No goodbye: the transport is closed at once (the MQTT broker publishes the will). */
    ABORT
}
