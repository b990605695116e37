package dev.tether.websocket.internal;

import dev.tether.websocket.Heartbeat;
import dev.tether.websocket.WebSocketSessionSpec;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Scheduler;

/**
 * What one session's handler needs to know.
 *
 * @param client                whether this is the client side (waits for the server to close TCP)
 * @param closeHandshakeTimeout how long to wait for the peer's close frame
 * @param tcpCloseWait          client only: how long to wait for the server's FIN after the handshake
 * @param heartbeat             ping settings
 * @param watchdog              the longest time without an application message, or null for none
 * @param maxFramePayload       the largest frame we send; longer messages are fragmented
 * @param maxMessageBytes       the largest inbound message (all fragments); beyond it we close with 1009
 * @param inboundBuffer         how many inbound messages wait for the application before reading pauses
 * @param scheduler             timers and clock
 * @param maxOutboundBytes      bytes queued for the peer beyond which a slow consumer is closed with 1013
 * @param lingerTimeout         after a close caused by the peer's input: how long to read and discard while
 *                              waiting for the peer's close frame or FIN
 * @param lingerBytes           the same: how many bytes may be discarded before TCP is closed anyway
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public record SessionSettings(boolean client, Duration closeHandshakeTimeout, Duration tcpCloseWait, Heartbeat heartbeat,
                              @Nullable Duration watchdog, int maxFramePayload, int maxMessageBytes, int inboundBuffer,
                              Scheduler scheduler, long maxOutboundBytes, Duration lingerTimeout, long lingerBytes) {

    /**
     * Settings with the default linger bounds.
     *
     * @param client                whether this is the client side
     * @param closeHandshakeTimeout how long to wait for the peer's close frame
     * @param tcpCloseWait          client only: how long to wait for the server's FIN
     * @param heartbeat             ping settings
     * @param watchdog              the longest time without an application message, or null
     * @param maxFramePayload       the largest frame we send
     * @param maxMessageBytes       the largest inbound message
     * @param inboundBuffer         inbound messages held before reading pauses
     * @param scheduler             timers and clock
     * @param maxOutboundBytes      bytes queued for the peer beyond which a slow consumer is closed with 1013
     */
    public SessionSettings(boolean client, Duration closeHandshakeTimeout, Duration tcpCloseWait, Heartbeat heartbeat,
                           @Nullable Duration watchdog, int maxFramePayload, int maxMessageBytes, int inboundBuffer,
                           Scheduler scheduler, long maxOutboundBytes) {
        this(client, closeHandshakeTimeout, tcpCloseWait, heartbeat, watchdog, maxFramePayload, maxMessageBytes,
                inboundBuffer, scheduler, maxOutboundBytes, WebSocketSessionSpec.DEFAULT_LINGER_TIMEOUT, WebSocketSessionSpec.DEFAULT_LINGER_BYTES);
    }

    /**
     * Settings without an outbound bound.
     *
     * @param client                whether this is the client side
     * @param closeHandshakeTimeout how long to wait for the peer's close frame
     * @param tcpCloseWait          client only: how long to wait for the server's FIN
     * @param heartbeat             ping settings
     * @param watchdog              the longest time without an application message, or null
     * @param maxFramePayload       the largest frame we send
     * @param maxMessageBytes       the largest inbound message
     * @param inboundBuffer         inbound messages held before reading pauses
     * @param scheduler             timers and clock
     */
    public SessionSettings(boolean client, Duration closeHandshakeTimeout, Duration tcpCloseWait, Heartbeat heartbeat,
                           @Nullable Duration watchdog, int maxFramePayload, int maxMessageBytes, int inboundBuffer,
                           Scheduler scheduler) {
        this(client, closeHandshakeTimeout, tcpCloseWait, heartbeat, watchdog, maxFramePayload, maxMessageBytes,
                inboundBuffer, scheduler, Long.MAX_VALUE);
    }
}
