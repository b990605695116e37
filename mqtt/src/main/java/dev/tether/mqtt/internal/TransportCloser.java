package dev.tether.mqtt.internal;

import io.netty.channel.Channel;

/** How a transport ends: with its own close handshake, or at once. */
interface TransportCloser {

    /**
     * Closes the transport after the MQTT goodbye: for WebSocket a close frame (1000) and a bounded wait
     * for the broker's reply before TCP is closed; for TCP a plain close.
     *
     * @param channel the channel
     */
    void closeGracefully(Channel channel);

    /**
     * Closes the transport at once (for WebSocket a close frame is written first, without waiting).
     *
     * @param channel the channel
     */
    void abort(Channel channel);

    /** The plain TCP (or TLS) closer. */
    TransportCloser TCP = new TransportCloser() {
        @Override
        public void closeGracefully(Channel channel) {
            channel.close();
        }

        @Override
        public void abort(Channel channel) {
            channel.close();
        }
    };
}
