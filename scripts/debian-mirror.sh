# Sourced by the scripts that fetch from Debian (build-libssh2.sh, debian13.sh):
# defines find_debian_mirror, which reads the mirror apt already uses.

# Reads the enabled apt sources (one-line *.list and deb822 *.sources) and
# prints the URI of the main Debian archive (not security/updates/backports,
# not third-party). Output: one URI, best candidate.
find_debian_mirror() {
    local files=()
    [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
    local f
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] && files+=("$f")
    done
    ((${#files[@]})) || return 1

    # Emit "suite uri" candidate pairs.
    local f2
    {
        for f2 in "${files[@]}"; do
            case "$f2" in
            *.sources)
                awk '
                    function flush() {
                        if (types ~ /(^|[ \t])deb(-src)?([ \t]|$)/ && tolower(enabled) != "no" && comps ~ /(^|[ \t])main([ \t]|$)/) {
                            n = split(uris, u, /[ \t]+/); m = split(suites, s, /[ \t]+/)
                            for (i = 1; i <= n; i++) for (j = 1; j <= m; j++)
                                if (u[i] != "" && s[j] != "") print s[j], u[i]
                        }
                        types = uris = suites = comps = enabled = ""; last = ""
                    }
                    /^[ \t]*#/ { next }
                    /^[ \t]*$/ { flush(); next }
                    /^[ \t]/ { # continuation line
                        sub(/^[ \t]+/, "")
                        if (last == "uris") uris = uris " " $0
                        else if (last == "suites") suites = suites " " $0
                        next
                    }
                    {
                        key = tolower($0); sub(/:.*/, "", key)
                        val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
                        last = key
                        if (key == "types") types = val
                        else if (key == "uris") uris = val
                        else if (key == "suites") suites = val
                        else if (key == "components") comps = val
                        else if (key == "enabled") enabled = val
                    }
                    END { flush() }
                ' "$f2"
                ;;
            *)
                awk '
                    /^[ \t]*#/ { next }
                    $1 == "deb" || $1 == "deb-src" {
                        line = $0
                        sub(/#.*/, "", line)
                        gsub(/\[[^]]*\]/, "", line)      # drop [options]
                        n = split(line, w, /[ \t]+/)
                        k = 0
                        for (i = 1; i <= n; i++) if (w[i] != "") a[++k] = w[i]
                        if (k < 4) next
                        hasmain = 0
                        for (i = 4; i <= k; i++) if (a[i] == "main") hasmain = 1
                        if (hasmain) print a[3], a[2]
                    }
                ' "$f2"
                ;;
            esac
        done
    } | awk '
        # Score: plain suite name (no -security/-updates/...) and a URI
        # path ending in /debian are what we want; security archives never.
        {
            suite = $1; uri = $2; score = 0
            if (uri !~ /^(https?|ftp|file|mirror(\+[a-z]+)?):/) next
            if (uri ~ /security/ || suite ~ /security/) next
            if (suite ~ /^[A-Za-z]+$/) score += 4
            if (uri ~ /\/debian\/?$/) score += 2
            if (suite ~ /^(bookworm|trixie|bullseye|sid|unstable|testing|stable|oldstable)$/) score += 1
            if (!(uri in best) || score > best[uri]) best[uri] = score
            if (!(uri in order)) order[uri] = NR
        }
        END {
            for (u in best) printf "%d %d %s\n", best[u], -order[u], u
        }
    ' | sort -k1,1nr -k2,2nr | awk 'NR == 1 { print $3 }'
}

