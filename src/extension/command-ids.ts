/** Every contributed command (package.json); kept here so activation registers them without loading the features. */
export const COMMAND_IDS = [
  'trialbook.newStudy',
  'trialbook.splitData',
  'trialbook.inspectLengths',
  'trialbook.runSeqlen',
  'trialbook.startTuning',
  'trialbook.stop',
  'trialbook.resume',
  'trialbook.runWorker',
  'trialbook.openDashboard',
  'trialbook.insertResults',
  'trialbook.exportReport',
  'trialbook.showLog',
  'trialbook.selectRuntime',
  'trialbook.refresh',
  'trialbook.showCurves',
  'trialbook.copyParams',
  'trialbook.rerunWithSeed',
  'trialbook.openFailureLog',
  'trialbook.retrySmallerBatch'
] as const;
