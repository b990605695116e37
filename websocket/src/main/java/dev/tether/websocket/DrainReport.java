package dev.tether.websocket;

import java.time.Duration;
import java.util.Objects;

/**
 * What a drain (stop or reload) did.
 *
 * @param reason        stop or reload
 * @param sessions      how many sessions were closed by the drain
 * @param closedCleanly how many completed the close handshake
 * @param aborted       how many did not (their TCP connection was closed at the drain bound or earlier)
 * @param refused       how many upgrade requests were refused with HTTP 503 during the drain
 * @param took          from the start of the drain to the last session closed
 */
public record DrainReport(DrainReason reason, int sessions, int closedCleanly, int aborted, int refused, Duration took) {

    /**
     * Checks the values.
     *
     * @param reason        stop or reload
     * @param sessions      sessions closed by the drain
     * @param closedCleanly sessions that completed the close handshake
     * @param aborted       sessions that did not
     * @param refused       upgrades refused with 503 during the drain
     * @param took          how long the drain took
     * @throws IllegalArgumentException if {@code sessions != closedCleanly + aborted}
     */
    public DrainReport {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(took, "took");
        if (sessions != closedCleanly + aborted) {
            throw new IllegalArgumentException("sessions (" + sessions + ") must equal closedCleanly (" + closedCleanly
                    + ") + aborted (" + aborted + ")");
        }
    }
}
