package dev.tether.mqtt.internal;

/** Where the acknowledgements of received messages and the read pauses of one connection go. */
interface AckWriter {

    /**
     * Queues an acknowledgement; called under the client's monitor, so the order of calls is the order on
     * the wire.
     *
     * @param qos2     true for PUBREC, false for PUBACK
     * @param packetId the packet id
     */
    void queueAck(boolean qos2, int packetId);

    /**
     * Queues a PUBCOMP behind the acknowledgements already queued; called under the client's monitor.
     *
     * @param packetId   the packet id
     * @param reasonCode its reason code (MQTT 5; 0 for 3.1.1)
     */
    void queueComplete(int packetId, int reasonCode);

    /**
     * Stops or resumes reading from the socket (TCP backpressure when subscribers' buffers are full).
     *
     * @param paused whether reading is paused
     */
    void pauseReading(boolean paused);
}
