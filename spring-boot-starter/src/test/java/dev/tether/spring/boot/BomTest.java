package dev.tether.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The BOM lists every published artifact of the build, and nothing else. */
class BomTest {

    /** Modules that are built but not published (besides those whose POM skips deploy). */
    private static final List<String> NOT_PUBLISHED = List.of("samples", "benchmarks", "bom", "interop", "testkit");

    @Test
    void theBomManagesEveryPublishedModuleAndNothingElse() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        List<String> published = new ArrayList<>();
        for (String module : all(Files.readString(root.resolve("pom.xml")), "<module>([^<]+)</module>")) {
            String pom = Files.readString(root.resolve(module).resolve("pom.xml"));
            if (!NOT_PUBLISHED.contains(module) && !pom.contains("<maven.deploy.skip>true</maven.deploy.skip>")) {
                published.add(artifactId(pom));
            }
        }
        String bom = Files.readString(root.resolve("bom/pom.xml"));
        assertThat(bom).doesNotContain("<parent>");
        // No parent, so its version is written out: it must follow the build's.
        String rootVersion = all(Files.readString(root.resolve("pom.xml")), "<version>([^<]+)</version>").get(0);
        assertThat(all(bom, "<version>([^<]+)</version>").get(0)).isEqualTo(rootVersion);
        String managed = bom.substring(bom.indexOf("<dependencyManagement>"));
        assertThat(all(managed, "<artifactId>([^<]+)</artifactId>")).containsExactlyInAnyOrderElementsOf(published);
        assertThat(published).contains("tether-core", "tether-mqtt", "tether-websocket", "tether-jwt",
                "tether-spring-boot-starter");
    }

    private static String artifactId(String pom) {
        // The project's own artifactId: the first one after the parent block.
        String afterParent = pom.contains("</parent>") ? pom.substring(pom.indexOf("</parent>")) : pom;
        return all(afterParent, "<artifactId>([^<]+)</artifactId>").get(0);
    }

    private static List<String> all(String text, String regex) {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) {
            found.add(m.group(1).trim());
        }
        return found;
    }
}
