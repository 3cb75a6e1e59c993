/// The Pod Security Standards' checks (baseline and restricted), each returning the
/// violation in the words kube-apiserver's PodSecurity admission uses, or nothing.
enum PodSecurityStandards {
    enum Level: String, Comparable, CaseIterable {
        case privileged, baseline, restricted
        static func < (a: Level, b: Level) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    /// A pod spec with its metadata, as the checks read it.
    struct PodView {
        let metadata: JSON
        let spec: JSON
        var containers: [JSON] {
            ["initContainers", "containers", "ephemeralContainers"].flatMap { spec[$0]?.arrayValue ?? [] }
        }
        func name(_ container: JSON) -> String { container["name"]?.stringValue ?? "" }
        var podContext: JSON { spec["securityContext"] ?? .emptyObject }
    }

    static let baselineCapabilities: Set<String> = ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                                                    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]
    static let safeSysctls: Set<String> = ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                                           "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                                           "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                                           "net.ipv4.tcp_keepalive_probes"]
    static let seLinuxTypes: Set<String> = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]
    static let restrictedVolumeSources: Set<String> = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                                                       "persistentVolumeClaim", "projected", "secret"]

    /// `container "a"` or `containers "a", "b"`.
    static func containers(_ names: [String]) -> String {
        (names.count == 1 ? "container " : "containers ") + names.map { "\"\($0)\"" }.joined(separator: ", ")
    }

    static func quoted(_ values: [String]) -> String { values.map { "\"\($0)\"" }.joined(separator: ", ") }

    /// The checks of a level (restricted includes baseline's).
    static func violations(_ pod: PodView, level: Level) -> [String] {
        guard level > .privileged else { return [] }
        var found = baseline(pod)
        if level == .restricted { found += restricted(pod) }
        return found
    }

    static func baseline(_ pod: PodView) -> [String] {
        var found: [String] = []
        let hosts = ["hostNetwork", "hostPID", "hostIPC"].filter { pod.spec[$0]?.boolValue == true }
        if !hosts.isEmpty { found.append("host namespaces (\(hosts.map { $0 + "=true" }.joined(separator: ", ")))") }

        let privileged = pod.containers.filter { $0[path: ["securityContext", "privileged"]]?.boolValue == true }.map(pod.name)
        if !privileged.isEmpty { found.append("privileged (\(containers(privileged)) must not set securityContext.privileged=true)") }

        var added: [String] = [], addedCaps: [String] = []
        for container in pod.containers {
            let extra = (container[path: ["securityContext", "capabilities", "add"]]?.arrayValue ?? []).compactMap(\.stringValue)
                .filter { !baselineCapabilities.contains($0) }
            if !extra.isEmpty {
                added.append(pod.name(container))
                for capability in extra where !addedCaps.contains(capability) { addedCaps.append(capability) }
            }
        }
        if !added.isEmpty {
            found.append("non-default capabilities (\(containers(added)) must not include \(quoted(addedCaps)) in securityContext.capabilities.add)")
        }

        let hostPaths = (pod.spec["volumes"]?.arrayValue ?? []).filter { $0["hostPath"] != nil }.compactMap { $0["name"]?.stringValue }
        if !hostPaths.isEmpty {
            found.append("hostPath volumes (volume\(hostPaths.count == 1 ? "" : "s") \(quoted(hostPaths)))")
        }

        var portContainers: [String] = [], ports: [String] = []
        for container in pod.containers {
            let hostPorts = (container["ports"]?.arrayValue ?? []).compactMap { $0["hostPort"]?.intValue }.filter { $0 != 0 }
            if !hostPorts.isEmpty {
                portContainers.append(pod.name(container))
                ports += hostPorts.map(String.init)
            }
        }
        if !portContainers.isEmpty {
            found.append("hostPort (\(containers(portContainers)) \(portContainers.count == 1 ? "uses" : "use") hostPort\(ports.count == 1 ? "" : "s") \(ports.joined(separator: ", ")))")
        }

        var apparmor: [String] = []
        for (key, value) in pod.metadata["annotations"]?.objectValue ?? [:]
        where key.hasPrefix("container.apparmor.security.beta.kubernetes.io/") {
            let profile = value.stringValue ?? ""
            if profile != "runtime/default" && !profile.hasPrefix("localhost/") { apparmor.append("\(key)=\"\(profile)\"") }
        }
        if pod.podContext[path: ["appArmorProfile", "type"]]?.stringValue == "Unconfined" { apparmor.append("pod") }
        for container in pod.containers where container[path: ["securityContext", "appArmorProfile", "type"]]?.stringValue == "Unconfined" {
            apparmor.append("container \"\(pod.name(container))\"")
        }
        if !apparmor.isEmpty { found.append("forbidden AppArmor profile\(apparmor.count == 1 ? "" : "s") (\(apparmor.sorted().joined(separator: ", ")))") }

        var seLinux: [String] = []
        func badSELinux(_ context: JSON) -> Bool {
            guard let options = context["seLinuxOptions"] else { return false }
            return !seLinuxTypes.contains(options["type"]?.stringValue ?? "") || options["user"] != nil || options["role"] != nil
        }
        if badSELinux(pod.podContext) { seLinux.append("pod") }
        seLinux += pod.containers.filter { badSELinux($0["securityContext"] ?? .emptyObject) }.map { "container \"\(pod.name($0))\"" }
        if !seLinux.isEmpty { found.append("seLinuxOptions (\(seLinux.joined(separator: ", ")) set forbidden securityContext.seLinuxOptions)") }

        let procMounts = pod.containers.filter {
            ($0[path: ["securityContext", "procMount"]]?.stringValue ?? "Default") != "Default"
        }.map(pod.name)
        if !procMounts.isEmpty { found.append("procMount (\(containers(procMounts)) must not set securityContext.procMount to \"Unmasked\")") }

        var unconfined: [String] = []
        if pod.podContext[path: ["seccompProfile", "type"]]?.stringValue == "Unconfined" { unconfined.append("pod") }
        unconfined += pod.containers.filter { $0[path: ["securityContext", "seccompProfile", "type"]]?.stringValue == "Unconfined" }
            .map { "container \"\(pod.name($0))\"" }
        if !unconfined.isEmpty {
            found.append("seccompProfile (\(unconfined.joined(separator: ", ")) must not set securityContext.seccompProfile.type to \"Unconfined\")")
        }

        let sysctls = (pod.podContext["sysctls"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.filter { !safeSysctls.contains($0) }
        if !sysctls.isEmpty { found.append("forbidden sysctls (\(sysctls.joined(separator: ", ")))") }

        let hostProcess = pod.podContext[path: ["windowsOptions", "hostProcess"]]?.boolValue == true
            || pod.containers.contains { $0[path: ["securityContext", "windowsOptions", "hostProcess"]]?.boolValue == true }
        if hostProcess { found.append("hostProcess (pod or containers must not set securityContext.windowsOptions.hostProcess=true)") }
        return found
    }

    static func restricted(_ pod: PodView) -> [String] {
        var found: [String] = []
        var restrictedVolumes: [String] = [], types: [String] = []
        for volume in pod.spec["volumes"]?.arrayValue ?? [] {
            let sources = (volume.objectValue ?? [:]).keys.filter { $0 != "name" }
            for source in sources.sorted() where !restrictedVolumeSources.contains(source) {
                restrictedVolumes.append(volume["name"]?.stringValue ?? "")
                if !types.contains(source) { types.append(source) }
            }
        }
        if !restrictedVolumes.isEmpty {
            found.append("restricted volume types (volume\(restrictedVolumes.count == 1 ? "" : "s") \(quoted(restrictedVolumes)) \(restrictedVolumes.count == 1 ? "uses" : "use") restricted volume type\(types.count == 1 ? "" : "s") \(quoted(types)))")
        }

        let escalating = pod.containers.filter { $0[path: ["securityContext", "allowPrivilegeEscalation"]]?.boolValue != false }.map(pod.name)
        if !escalating.isEmpty {
            found.append("allowPrivilegeEscalation != false (\(containers(escalating)) must set securityContext.allowPrivilegeEscalation=false)")
        }

        let capabilities = pod.containers.filter { container in
            let capabilities = container[path: ["securityContext", "capabilities"]] ?? .emptyObject
            let drops = (capabilities["drop"]?.arrayValue ?? []).compactMap(\.stringValue)
            let adds = (capabilities["add"]?.arrayValue ?? []).compactMap(\.stringValue)
            return !drops.contains("ALL") || adds.contains { $0 != "NET_BIND_SERVICE" }
        }.map(pod.name)
        if !capabilities.isEmpty {
            found.append("unrestricted capabilities (\(containers(capabilities)) must set securityContext.capabilities.drop=[\"ALL\"])")
        }

        let podNonRoot = pod.podContext["runAsNonRoot"]?.boolValue
        let explicitRoot = pod.containers.filter { $0[path: ["securityContext", "runAsNonRoot"]]?.boolValue == false }.map(pod.name)
        let unset = podNonRoot == true ? [] : pod.containers.filter { $0[path: ["securityContext", "runAsNonRoot"]]?.boolValue == nil }.map(pod.name)
        if podNonRoot == false {
            found.append("runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)")
        } else if !explicitRoot.isEmpty {
            found.append("runAsNonRoot != true (\(containers(explicitRoot)) must not set securityContext.runAsNonRoot=false)")
        } else if !unset.isEmpty {
            found.append("runAsNonRoot != true (pod or \(containers(unset)) must set securityContext.runAsNonRoot=true)")
        }

        var rootUsers: [String] = []
        if pod.podContext["runAsUser"]?.intValue == 0 { rootUsers.append("pod") }
        rootUsers += pod.containers.filter { $0[path: ["securityContext", "runAsUser"]]?.intValue == 0 }.map { "container \"\(pod.name($0))\"" }
        if !rootUsers.isEmpty { found.append("runAsUser=0 (\(rootUsers.joined(separator: ", ")) must not set runAsUser=0)") }

        let allowed: Set<String> = ["RuntimeDefault", "Localhost"]
        let podSeccomp = pod.podContext[path: ["seccompProfile", "type"]]?.stringValue
        let missingSeccomp = pod.containers.filter { container in
            let own = container[path: ["securityContext", "seccompProfile", "type"]]?.stringValue
            return !allowed.contains(own ?? podSeccomp ?? "") && own != "Unconfined" && podSeccomp != "Unconfined"
        }.map(pod.name)
        if !missingSeccomp.isEmpty {
            let who = podSeccomp == nil ? "pod or \(containers(missingSeccomp))" : containers(missingSeccomp)
            found.append("seccompProfile (\(who) must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")")
        }
        return found
    }
}
