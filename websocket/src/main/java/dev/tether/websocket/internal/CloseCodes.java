package dev.tether.websocket.internal;

import java.nio.charset.StandardCharsets;

/**
 * Close code rules of RFC 6455 section 7.4.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class CloseCodes {

    private CloseCodes() {
    }

    /**
     * @param code a close code
     * @return whether an endpoint may put it in a close frame
     */
    public static boolean sendable(int code) {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }

    /**
     * @param code   a close code
     * @param reason a reason text
     * @throws IllegalArgumentException naming the bad value if the code may not be sent or the reason is too long
     */
    public static void checkSendable(int code, String reason) {
        if (!sendable(code)) {
            throw new IllegalArgumentException("code must be a close code that may be sent (1000-1003, 1007-1014, "
                    + "3000-4999; never 1005, 1006 or 1015), but was " + code);
        }
        if (reason.getBytes(StandardCharsets.UTF_8).length > 123) {
            throw new IllegalArgumentException("reason must be at most 123 UTF-8 bytes, but was "
                    + reason.getBytes(StandardCharsets.UTF_8).length + " bytes");
        }
    }

    /**
     * @param reason a reason text
     * @return the reason cut to at most 123 UTF-8 bytes (what fits in a close frame), never in a character
     */
    public static String truncateReason(String reason) {
        if (reason.getBytes(StandardCharsets.UTF_8).length <= 123) {
            return reason;
        }
        StringBuilder out = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < reason.length(); ) {
            int cp = reason.codePointAt(i);
            int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + n > 123) {
                break;
            }
            out.appendCodePoint(cp);
            bytes += n;
            i += Character.charCount(cp);
        }
        return out.toString();
    }

    /**
     * @param code a close code
     * @return its RFC 6455 name, e.g. {@code normal closure}
     */
    public static String describe(int code) {
        return switch (code) {
            case 1000 -> "normal closure";
            case 1001 -> "going away";
            case 1002 -> "protocol error";
            case 1003 -> "unsupported data";
            case 1005 -> "no status code";
            case 1006 -> "abnormal closure, no close frame";
            case 1007 -> "invalid payload data";
            case 1008 -> "policy violation";
            case 1009 -> "message too big";
            case 1010 -> "mandatory extension";
            case 1011 -> "internal error";
            case 1012 -> "service restart";
            case 1013 -> "try again later";
            case 1014 -> "bad gateway";
            default -> code >= 4000 ? "private code" : code >= 3000 ? "registered code" : "unknown code";
        };
    }
}
