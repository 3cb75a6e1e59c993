@testable import APIServer
import Testing

/// `--controllers` in kube-controller-manager's syntax chooses Skiff's loops.
@Suite(.timeLimit(.minutes(1))) struct ControllerSelectionTests {
    @Test func kubeControllerManagerSyntaxChoosesTheLoops() throws {
        let all = try ControllerSelection(parsing: "*")
        #expect(ControllerSelection.Loop.allCases.allSatisfy(all.runs))

        let most = try ControllerSelection(parsing: "*,-garbagecollector,-namespace-controller")
        #expect(!most.runs(.garbagecollector) && !most.runs(.namespace))
        #expect(most.runs(.resourcequota) && most.runsServiceAccounts)

        let one = try ControllerSelection(parsing: "namespace")
        #expect(one.runs(.namespace) && !one.runs(.resourcequota) && !one.runsServiceAccounts)

        // The service account loop also publishes kube-root-ca.crt: it stops only when both are off.
        #expect(try ControllerSelection(parsing: "*,-serviceaccount").runsServiceAccounts)
        #expect(try !ControllerSelection(parsing: "*,-serviceaccount,-root-ca-cert-publisher").runsServiceAccounts)

        // kube-controller-manager's own controllers are accepted and change nothing here.
        let kcm = try ControllerSelection(parsing: "*,-deployment,replicaset,-clusterrole-aggregation")
        #expect(!kcm.runs(.clusterroleAggregation) && kcm.runs(.garbagecollector))

        #expect(throws: ControllerSelectionError.self) { try ControllerSelection(parsing: "*,-garbagecolector") }
        #expect(try !ControllerSelection(parsing: "").runs(.namespace))
        let none = try ControllerSelection(parsing: "none")
        #expect(ControllerSelection.Loop.allCases.allSatisfy { !none.runs($0) } && !none.runsServiceAccounts)
    }

    @Test func theServerRunsOnlyTheChosenLoops() async throws {
        let fewer = try await InProcessAPI(selection: try ControllerSelection(parsing: "*,-garbagecollector,-resourcequota"))
        // The CRD loop always runs: with four of the six selectable loops, five in all (seven with every loop).
        #expect(fewer.bootstrap.controllers.count == 5)
        let signerOff = try await InProcessAPI(selection: try ControllerSelection(parsing: "*,-csrsigning"))
        #expect(signerOff.bootstrap.controllers.count == 6)
    }
}
