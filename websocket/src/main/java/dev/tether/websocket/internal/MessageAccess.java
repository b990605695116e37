package dev.tether.websocket.internal;

import dev.tether.websocket.WebSocketMessage;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The library's own way into {@link WebSocketMessage}: reads the payload without the defensive copy that
 * {@link WebSocketMessage#bytes()} makes for applications, and hands over a freshly received array instead of
 * copying it again. The message class installs the accessor when it is initialised.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class MessageAccess {

    /** What the message class lets the library do. */
    public interface Access {
        /**
         * @param message a message
         * @return its payload array itself: never written to, never handed to an application
         */
        byte[] payload(WebSocketMessage message);

        /**
         * @param text         whether it is a text message
         * @param ownedPayload an array nothing else holds or will write to
         * @return a message on that array
         */
        WebSocketMessage create(boolean text, byte[] ownedPayload);
    }

    private static volatile @Nullable Access access;

    private MessageAccess() {
    }

    /**
     * Called once, by {@link WebSocketMessage}'s static initialiser.
     *
     * @param a the accessor
     */
    public static void install(Access a) {
        access = Objects.requireNonNull(a, "access");
    }

    private static Access access() {
        Access a = access;
        if (a == null) {
            // Initialising the class installs the accessor.
            WebSocketMessage.text("");
            a = Objects.requireNonNull(access, "WebSocketMessage did not install its accessor");
        }
        return a;
    }

    static byte[] payload(WebSocketMessage message) {
        return access().payload(message);
    }

    static WebSocketMessage create(boolean text, byte[] ownedPayload) {
        return access().create(text, ownedPayload);
    }
}
