package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttMessage;
import io.netty.util.concurrent.Future;

/**
 * Where the publishes of one connection go: what {@link OutboundPublishes} needs of a connection. Called under
 * the client's monitor; the futures complete on the connection's event loop.
 */
interface PublishWriter {

    /** @return whether new publishes may be sent on this connection */
    boolean canSend();

    /** @return whether the caller runs on this connection's event loop */
    boolean inEventLoop();

    /**
     * Runs a task on the event loop once, however often it is asked for before it runs.
     *
     * @param task the task
     */
    void scheduleDrain(Runnable task);

    /**
     * Writes a new QoS 1 or 2 publish, flushed with the other writes of the same event loop run. Its outcome is not
     * reported (no promise per message): a write that fails ends the connection, and the publish, still in flight,
     * goes again on the next one; its acknowledgement completes it.
     *
     * @param message  the message
     * @param packetId its packet id
     */
    void writePublishSoon(MqttMessage message, int packetId);

    /**
     * Writes and flushes a QoS 0 publish on its own, on the event loop: one TCP segment per message, not one for
     * the burst (see {@link OutboundPublishes#drain}).
     *
     * @param message the message
     * @return the write's future, done once flushed
     */
    Future<Void> writeAtMostOnce(MqttMessage message);

    /**
     * Writes and flushes a publish.
     *
     * @param message  the message
     * @param packetId its packet id
     * @param dup      the DUP flag (a resend)
     * @return the write's future
     */
    Future<Void> writePublish(MqttMessage message, int packetId, boolean dup);

    /** Writes a PUBREL. */
    void writePubRel(int packetId);

    /** Reports a lifecycle notice of the connection's attempt. */
    void reportNotice(String kind, String details);
}
