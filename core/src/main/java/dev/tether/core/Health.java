package dev.tether.core;

import java.time.Instant;

/**
 * A connection's lifecycle reduced to what a health check needs.
 *
 * @param status     the health status
 * @param generation the generation the status belongs to
 * @param since      when the connection entered this status
 * @param detail     a short human explanation (the last failure, the endpoint)
 */
public record Health(Status status, long generation, Instant since, String detail) {

    /** Health statuses, in the vocabulary of common health endpoints. */
    public enum Status {
        /** Not yet connected for the first time. */
        STARTING,
        /** Connected. */
        UP,
        /** Was connected, is reconnecting. */
        RECONNECTING,
        /** Closed on the user's request. */
        OUT_OF_SERVICE,
        /** Closed for good after a fatal verdict or exhausted retries. */
        DOWN
    }
}
